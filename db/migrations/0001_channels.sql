-- Payment channels a paywall serves (x402 batch-settlement), the vouchers it accepted, and who runs the claims.
-- Amounts are base units of the token (numeric(78,0): any uint256).

CREATE TABLE netd_channels (
  channel_id            text PRIMARY KEY,                -- 0x + 64 hex, lower case
  network               text NOT NULL,                   -- CAIP-2, e.g. eip155:31337
  config                jsonb NOT NULL,                  -- the ChannelConfig, checksummed
  receiver              text NOT NULL,
  token                 text NOT NULL,
  balance               numeric(78,0) NOT NULL,          -- on chain, as last read
  total_claimed         numeric(78,0) NOT NULL,          -- on chain, as last read or claimed by us
  withdraw_requested_at bigint NOT NULL DEFAULT 0,       -- unix seconds; 0 when no timed withdrawal is pending
  refund_nonce          numeric(78,0) NOT NULL DEFAULT 0,
  payer_blocklisted     boolean NOT NULL DEFAULT false,  -- on the token's blocklist, as last read
  charged               numeric(78,0) NOT NULL,          -- cumulative price of everything served
  signed_max            numeric(78,0) NOT NULL,          -- the highest voucher ceiling held (0: none)
  signature             text NOT NULL DEFAULT '',        -- that voucher's signature: the only claim on the money
  synced_at             timestamptz NOT NULL DEFAULT now(),
  last_request_at       timestamptz NOT NULL DEFAULT now(),
  -- nothing is charged beyond the voucher held (a channel found on chain starts at what was claimed there)
  CHECK (charged <= signed_max OR charged = total_claimed)
);
CREATE INDEX netd_channels_unclaimed ON netd_channels (receiver, token) WHERE charged > total_claimed;

-- Every voucher charged for a request: one row per (channel, ceiling), so a ceiling is never charged twice. A voucher
-- charged and not yet served (the process died before answering) is served when presented again, once.
CREATE TABLE netd_vouchers (
  channel_id    text NOT NULL REFERENCES netd_channels (channel_id),
  max_claimable numeric(78,0) NOT NULL,
  signature     text NOT NULL,
  amount        numeric(78,0) NOT NULL,                  -- the price charged for it
  charged_after numeric(78,0) NOT NULL,                  -- the channel's charged total once it was served
  route         text NOT NULL,
  created_at    timestamptz NOT NULL DEFAULT now(),
  served_at     timestamptz,                             -- when its response was handed to the network (null: not yet)
  PRIMARY KEY (channel_id, max_claimable)
);

-- Claims sent on chain (for the operator's view and to reconcile after a crash).
CREATE TABLE netd_claims (
  id           bigserial PRIMARY KEY,
  network      text NOT NULL,
  transaction  text NOT NULL DEFAULT '',
  channels     integer NOT NULL,
  amount       numeric(78,0) NOT NULL,
  status       text NOT NULL,                            -- sent | confirmed | failed
  error        text,
  created_at   timestamptz NOT NULL DEFAULT now()
);

-- One claimer at a time among the processes sharing the database: a lease that expires.
CREATE TABLE netd_leases (
  name         text PRIMARY KEY,
  holder       text NOT NULL,
  expires_at   timestamptz NOT NULL
);
