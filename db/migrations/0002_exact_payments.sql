-- exact payments a paywall served, by payer and EIP-3009 nonce: a payment whose money moved is served once, also when
-- it is presented again to another process or after a restart (its first answer lost).
CREATE TABLE netd_exact_payments (
  network      text NOT NULL,
  payer        text NOT NULL,
  nonce        text NOT NULL,
  route        text NOT NULL,
  transaction  text NOT NULL,
  taken_at     timestamptz NOT NULL DEFAULT now(),  -- settled and being served
  served_at    timestamptz,                         -- its response was handed to the network (null: not yet)
  PRIMARY KEY (network, payer, nonce)
);
