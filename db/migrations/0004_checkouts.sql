-- AP2 checkouts a merchant was paid for (selling by checkout over HTTP and MCP): each checkout is paid once. The first
-- payment that presents it claims it before it is settled; another payment for the same checkout is refused, and the
-- same payment presented again (its answer lost) still holds it.
CREATE TABLE netd_checkouts (
  checkout_hash  text PRIMARY KEY,         -- the payment mandate's transaction_id (sha256 of the checkout JWT)
  order_id       text NOT NULL,
  network        text NOT NULL,
  payer          text NOT NULL,
  nonce          text NOT NULL,            -- the EIP-3009 nonce of the payment that claimed it
  claimed_at     timestamptz NOT NULL DEFAULT now()
);
