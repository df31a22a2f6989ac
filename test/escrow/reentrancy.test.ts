import { expect } from "chai";
import { ethers } from "hardhat";
import { loadFixture } from "@nomicfoundation/hardhat-network-helpers";
import type { ConditionalEscrow, MockCallbackToken, MockMaliciousReceiver } from "../../typechain-types";
import { AMOUNT, Outcome, USD, escrowFixture, toStruct, type EscrowFixture } from "./fixture";
import { atTimestamp } from "../helpers/time";
import type { Payment } from "../../src/escrow/payment";

/**
 * A malicious token and a malicious receiver try to re-enter every state-changing entry point of the escrow from
 * inside every operation that calls them. Every attempt must meet the reentrancy guard, and the outer operation
 * must still move exactly the right amounts (the commerce-payments audit found a collector re-entering `authorize`
 * so that one deposit counted twice; this is the test that would catch it here).
 */
describe("ConditionalEscrow: reentrancy through a malicious token or receiver", function () {
  interface Attack extends EscrowFixture {
    evil: MockCallbackToken;
    evilAddress: string;
    receiver: MockMaliciousReceiver;
    receiverAddress: string;
    /** Terms paid in the malicious token, to the malicious receiver, with every role set. */
    evilTerms(overrides?: Partial<Payment>): Promise<Payment>;
  }

  async function attackFixture(): Promise<Attack> {
    const f = await escrowFixture();
    const evil = await (await ethers.getContractFactory("MockCallbackToken")).deploy();
    const receiver = await (await ethers.getContractFactory("MockMaliciousReceiver")).deploy();
    const evilAddress = await evil.getAddress();
    const receiverAddress = await receiver.getAddress();
    for (const s of [f.payer, f.operator, f.payees[0]]) {
      await evil.mint(s, 10_000n * USD);
      await evil.connect(s).approve(f.escrowAddress, ethers.MaxUint256);
    }
    const evilTerms = async (overrides: Partial<Payment> = {}) => ({
      ...(await f.terms({
        token: evilAddress,
        payees: [
          { account: receiverAddress, shareBps: 5_000 },
          { account: f.payees[0].address, shareBps: 5_000 },
        ],
        operator: f.operator.address,
        arbiter: f.arbiter.address,
      })),
      ...overrides,
    });
    return { ...f, evil, evilAddress, receiver, receiverAddress, evilTerms };
  }

  /** Calldata for every state-changing entry point, aimed at some other payment `q`. */
  function entryPoints(escrow: ConditionalEscrow, q: Payment, token: string): [string, string][] {
    const s = toStruct(q);
    const i = escrow.interface;
    return [
      ["fundWithAuthorization", i.encodeFunctionData("fundWithAuthorization", [s, 0n, 2n ** 40n, "0x"])],
      ["fundWithPermit", i.encodeFunctionData("fundWithPermit", [s, 0n, 27, ethers.ZeroHash, ethers.ZeroHash])],
      ["fund", i.encodeFunctionData("fund", [s])],
      ["confirm", i.encodeFunctionData("confirm", [s])],
      ["confirmWithReceipt", i.encodeFunctionData("confirmWithReceipt", [s, "0x"])],
      ["capture", i.encodeFunctionData("capture", [s, 1n, 0])],
      ["release", i.encodeFunctionData("release", [s])],
      ["void", i.encodeFunctionData("void", [s])],
      ["reclaim", i.encodeFunctionData("reclaim", [s])],
      ["refund", i.encodeFunctionData("refund", [s, 1n])],
      ["dispute", i.encodeFunctionData("dispute", [s])],
      ["rule", i.encodeFunctionData("rule", [s, 0])],
      ["withdraw", i.encodeFunctionData("withdraw", [token])],
    ];
  }

  const guardError = (escrow: ConditionalEscrow) => escrow.interface.encodeErrorResult("ReentrancyGuardReentrantCall");

  /** The operations that call the token, each set up on a fresh payment, with the balance changes they must make. */
  const operations: {
    name: string;
    setup: (a: Attack) => Promise<Payment>;
    run: (a: Attack, p: Payment) => Promise<unknown>;
    expected: (a: Attack) => [string, bigint][];
  }[] = [
    {
      name: "fundWithAuthorization",
      setup: (a) => a.evilTerms(),
      run: (a, p) => a.escrow.fundWithAuthorization(toStruct(p), 0n, p.fundBy + 1n, "0x"),
      expected: (a) => [
        [a.payer.address, -AMOUNT],
        [a.escrowAddress, AMOUNT],
      ],
    },
    {
      name: "fund",
      setup: (a) => a.evilTerms(),
      run: (a, p) => a.escrow.connect(a.payer).fund(toStruct(p)),
      expected: (a) => [
        [a.payer.address, -AMOUNT],
        [a.escrowAddress, AMOUNT],
      ],
    },
    {
      name: "confirm",
      setup: fundedEvil,
      run: (a, p) => a.escrow.connect(a.verifier).confirm(toStruct(p)),
      expected: (a) => [
        [a.escrowAddress, -AMOUNT],
        [a.receiverAddress, AMOUNT / 2n],
        [a.payees[0].address, AMOUNT / 2n],
      ],
    },
    {
      name: "capture",
      setup: fundedEvil,
      run: (a, p) => a.escrow.connect(a.operator).capture(toStruct(p), AMOUNT, 0),
      expected: (a) => [
        [a.escrowAddress, -AMOUNT],
        [a.receiverAddress, AMOUNT / 2n],
      ],
    },
    {
      name: "void",
      setup: fundedEvil,
      run: (a, p) => a.escrow.connect(a.operator).void(toStruct(p)),
      expected: (a) => [
        [a.escrowAddress, -AMOUNT],
        [a.payer.address, AMOUNT],
      ],
    },
    {
      name: "reclaim",
      setup: async (a) => {
        const p = await fundedEvil(a);
        await atTimestamp(p.confirmBy + p.disputeWindow + 1n);
        return p;
      },
      run: (a, p) => a.escrow.reclaim(toStruct(p)),
      expected: (a) => [
        [a.escrowAddress, -AMOUNT],
        [a.payer.address, AMOUNT],
      ],
    },
    {
      name: "release",
      setup: async (a) => {
        const p = await fundedEvil(a, { defaultOutcome: Outcome.Release });
        await atTimestamp(p.confirmBy + p.disputeWindow + 1n);
        return p;
      },
      run: (a, p) => a.escrow.release(toStruct(p)),
      expected: (a) => [
        [a.escrowAddress, -AMOUNT],
        [a.receiverAddress, AMOUNT / 2n],
      ],
    },
    {
      name: "rule",
      setup: async (a) => {
        const p = await fundedEvil(a);
        await a.escrow.connect(a.payer).dispute(toStruct(p));
        return p;
      },
      run: (a, p) => a.escrow.connect(a.arbiter).rule(toStruct(p), 5_000),
      expected: (a) => [
        [a.escrowAddress, -AMOUNT],
        [a.payer.address, AMOUNT / 2n],
        [a.receiverAddress, AMOUNT / 4n],
      ],
    },
    {
      name: "refund",
      setup: async (a) => {
        const p = await fundedEvil(a);
        await a.escrow.connect(a.verifier).confirm(toStruct(p));
        return p;
      },
      run: (a, p) => a.escrow.connect(a.operator).refund(toStruct(p), 10n * USD),
      expected: (a) => [
        [a.operator.address, -10n * USD],
        [a.payer.address, 10n * USD],
        [a.escrowAddress, 0n],
      ],
    },
    {
      name: "withdraw",
      setup: async (a) => {
        await a.evil.setBlocked(a.payees[0].address, true);
        const p = await fundedEvil(a);
        await a.escrow.connect(a.verifier).confirm(toStruct(p));
        await a.evil.setBlocked(a.payees[0].address, false);
        return p;
      },
      run: (a) => a.escrow.connect(a.payees[0]).withdraw(a.evilAddress),
      expected: (a) => [
        [a.escrowAddress, -AMOUNT / 2n],
        [a.payees[0].address, AMOUNT / 2n],
      ],
    },
  ];

  async function fundedEvil(a: Attack, overrides: Partial<Payment> = {}): Promise<Payment> {
    const p = await a.evilTerms(overrides);
    await a.escrow.connect(a.payer).fund(toStruct(p));
    return p;
  }

  async function balances(a: Attack, accounts: string[]): Promise<bigint[]> {
    return Promise.all(accounts.map((x) => a.evil.balanceOf(x)));
  }

  describe("a malicious token calling back from inside the transfer", function () {
    for (const op of operations) {
      it(`inside ${op.name}, every entry point meets the guard and the amounts are exact`, async function () {
        const a0 = await loadFixture(attackFixture);
        const victims = entryPoints(a0.escrow, await a0.evilTerms(), a0.evilAddress);
        for (const [entry, data] of victims) {
          const a = await loadFixture(attackFixture);
          const p = await op.setup(a);
          const expected = op.expected(a);
          const before = await balances(
            a,
            expected.map(([x]) => x),
          );
          await a.evil.setCallback(a.escrowAddress, data);
          await op.run(a, p);
          expect(await a.evil.callbackAttempted(), `${op.name} → ${entry}: callback attempted`).to.equal(true);
          expect(await a.evil.callbackSucceeded(), `${op.name} → ${entry}: re-entry succeeded`).to.equal(false);
          expect(await a.evil.callbackError(), `${op.name} → ${entry}: error`).to.equal(guardError(a.escrow));
          const after = await balances(
            a,
            expected.map(([x]) => x),
          );
          expected.forEach(([, delta], k) => expect(after[k] - before[k], `${op.name} → ${entry}: balance ${k}`).to.equal(delta));
        }
      });
    }
  });

  describe("a malicious receiver calling back from its receipt hook", function () {
    for (const op of operations.filter((o) => ["confirm", "capture", "release", "rule"].includes(o.name))) {
      it(`inside ${op.name}, every entry point meets the guard and the amounts are exact`, async function () {
        const a0 = await loadFixture(attackFixture);
        const victims = entryPoints(a0.escrow, await a0.evilTerms(), a0.evilAddress);
        for (const [entry, data] of victims) {
          const a = await loadFixture(attackFixture);
          const p = await op.setup(a);
          const expected = op.expected(a);
          const before = await balances(
            a,
            expected.map(([x]) => x),
          );
          await a.evil.setHooked(a.receiverAddress, true);
          await a.receiver.configure(2, a.escrowAddress, data);
          await op.run(a, p);
          expect(await a.receiver.reentryAttempted(), `${op.name} → ${entry}: attempted`).to.equal(true);
          expect(await a.receiver.reentrySucceeded(), `${op.name} → ${entry}: re-entry succeeded`).to.equal(false);
          expect(await a.receiver.reentryError(), `${op.name} → ${entry}: error`).to.equal(guardError(a.escrow));
          const after = await balances(
            a,
            expected.map(([x]) => x),
          );
          expected.forEach(([, delta], k) => expect(after[k] - before[k], `${op.name} → ${entry}: balance ${k}`).to.equal(delta));
        }
      });
    }
  });

  it("a ruling records both halves before paying either: the token sees the final state (review finding I-01)", async function () {
    const a = await loadFixture(attackFixture);
    const p = await fundedEvil(a);
    const id = a.idOf(p);
    await a.escrow.connect(a.payer).dispute(toStruct(p));
    // During the first transfer of the ruling (the payer's half), the token reads the payment's state.
    await a.evil.setCallback(a.escrowAddress, a.escrow.interface.encodeFunctionData("paymentState", [id]));
    await a.escrow.connect(a.arbiter).rule(toStruct(p), 5_000);
    expect(await a.evil.callbackSucceeded()).to.equal(true);
    const [seen] = a.escrow.interface.decodeFunctionResult("paymentState", await a.evil.callbackError());
    expect([Number(seen.status), seen.held, seen.refundable]).to.deep.equal([3, 0n, AMOUNT / 2n]);
  });
});
