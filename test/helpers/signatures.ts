import { Wallet, type HDNodeWallet } from "ethers";
import type { SplitSignature } from "../../src/eip712";

/** secp256k1 group order. */
const N = 0xfffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141n;

/**
 * The malleable twin of a valid signature: same r, s' = n - s, v flipped. ecrecover accepts it; the token must not
 * (OpenZeppelin's ECDSA rejects s in the upper half of the order).
 */
export function highS(sig: SplitSignature): SplitSignature {
  const s = "0x" + (N - BigInt(sig.s)).toString(16).padStart(64, "0");
  const v = sig.v === 27 ? 28 : 27;
  return { signature: sig.r + s.slice(2) + v.toString(16), v, r: sig.r, s };
}

/** A fresh random key that holds nothing, for "wrong signer" cases. */
export function strangerKey(): HDNodeWallet {
  return Wallet.createRandom();
}
