import { ethers } from "hardhat";
import type { HardhatEthersSigner } from "@nomicfoundation/hardhat-ethers/signers";
import type { ContractTransactionResponse } from "ethers";
import type { ConditionalEscrow } from "../../typechain-types";
import { tokenFixture, type TokenFixture } from "../helpers/fixtures";
import { now } from "../helpers/time";
import { signTransferAuthorization } from "../../src/eip712";
import { Outcome, RECEIPT_TYPES, buildPayment, escrowDomain, paymentId, toStruct, type BuildPaymentParameters, type Payment } from "../../src/escrow/payment";

export { Outcome, toStruct };
export const USD = 1_000_000n;
export const AMOUNT = 100n * USD;

export interface EscrowFixture extends TokenFixture {
  escrow: ConditionalEscrow;
  escrowAddress: string;
  chainId: bigint;
  verifier: HardhatEthersSigner;
  operator: HardhatEthersSigner;
  arbiter: HardhatEthersSigner;
  feeReceiver: HardhatEthersSigner;
  payees: HardhatEthersSigner[];
  payer: HardhatEthersSigner;
  /** Terms with alice as payer, one payee, a verifier, and deadlines from the chain's clock. */
  terms(overrides?: Partial<BuildPaymentParameters>): Promise<Payment>;
  idOf(p: Payment): string;
  /** Funds through the payer's EIP-3009 signature (nonce = payment id), relayed by `relayer`. */
  fundWithAuthorization(p: Payment, options?: { signer?: HardhatEthersSigner; sender?: HardhatEthersSigner }): Promise<ContractTransactionResponse>;
  /** Funds by approval, sent by the payer. */
  fundByApproval(p: Payment): Promise<ContractTransactionResponse>;
  receipt(p: Payment, signer?: HardhatEthersSigner): Promise<string>;
}

export async function escrowFixture(): Promise<EscrowFixture> {
  const f = await tokenFixture();
  const signers = await ethers.getSigners();
  const [verifier, operator, arbiter, feeReceiver, ...payees] = signers.slice(13, 20);
  const escrow = (await (await ethers.getContractFactory("ConditionalEscrow")).deploy()) as unknown as ConditionalEscrow;
  const escrowAddress = await escrow.getAddress();
  const chainId = (await ethers.provider.getNetwork()).chainId;
  const tokenAddress = await f.token.getAddress();
  const payer = f.alice;

  const terms = async (overrides: Partial<BuildPaymentParameters> = {}) =>
    buildPayment({
      payer: payer.address,
      token: tokenAddress,
      amount: AMOUNT,
      payees: [payees[0].address],
      verifier: verifier.address,
      now: await now(),
      ...overrides,
    });
  const idOf = (p: Payment) => paymentId(p, escrowAddress, chainId);

  return {
    ...f,
    escrow,
    escrowAddress,
    chainId,
    verifier,
    operator,
    arbiter,
    feeReceiver,
    payees,
    payer,
    terms,
    idOf,
    async fundWithAuthorization(p, options = {}) {
      const auth = { from: p.payer, to: escrowAddress, value: p.amount, validAfter: 0n, validBefore: p.fundBy + 1n, nonce: idOf(p) };
      const sig = await signTransferAuthorization(options.signer ?? payer, f.domain, auth, "receive");
      return escrow.connect(options.sender ?? f.relayer).fundWithAuthorization(toStruct(p), auth.validAfter, auth.validBefore, sig.signature);
    },
    async fundByApproval(p) {
      await f.token.connect(payer).approve(escrowAddress, p.amount);
      return escrow.connect(payer).fund(toStruct(p));
    },
    async receipt(p, signer = verifier) {
      return signer.signTypedData(escrowDomain(escrowAddress, chainId), RECEIPT_TYPES, { paymentId: idOf(p) });
    },
  };
}

/** The state word of a payment, as a plain object. */
export async function stateOf(f: EscrowFixture, p: Payment): Promise<{ status: number; held: bigint; refundable: bigint }> {
  const s = await f.escrow.paymentState(f.idOf(p));
  return { status: Number(s.status), held: s.held, refundable: s.refundable };
}

export { Outcome as EscrowOutcome };
export const Status = { None: 0, Funded: 1, Disputed: 2, Settled: 3 } as const;
