import { expect } from "chai";
import { ethers } from "hardhat";
import { loadFixture } from "@nomicfoundation/hardhat-network-helpers";
import fc from "fast-check";
import type { HardhatEthersSigner } from "@nomicfoundation/hardhat-ethers/signers";
import { Outcome, escrowFixture, toStruct, USD, type EscrowFixture } from "../escrow/fixture";
import { signTransferAuthorization } from "../../src/eip712";
import { buildPayment, type Payment } from "../../src/escrow/payment";
import { fcParameters } from "../helpers/fastcheck";
import { ChainRefusedError } from "../../src/errors";
import { toNetDollarError } from "../../src/decode";

/**
 * Property-based test of the escrow: random sequences of payments and actions (funding, confirmations, captures,
 * voids, default outcomes, disputes, rulings, refunds, withdrawals), mixed with blocklisting, pausing and time jumps
 * across every deadline. A plain model predicts each outcome, success with exactly which balances it moves or the
 * exact custom error with its arguments (the escrow's, or the token's bubbling up through it); after every step the
 * invariants must hold:
 *
 * - the escrow's token balance equals what it still holds for payments plus what it owes as claimable payouts;
 * - per payment, released + refunded never exceeds funded, and the stored state matches the model;
 * - payouts (fee, shares, credits) sum to the released amount exactly.
 */
describe("ConditionalEscrow: invariants over random sequences (fast-check)", function () {
  // No timeout: the long run (npm run test:invariants) takes as long as its budget needs.
  this.timeout(0);

  interface ModelPayment {
    p: Payment;
    id: string;
    status: 0 | 1 | 2 | 3;
    held: bigint;
    refundable: bigint;
    funded: bigint;
    /** Released to the payees (fee included). */
    released: bigint;
    /** Refunded to the payer out of what was held. */
    refundedFromHeld: bigint;
    /** Refunded to the payer after release, paid by the operator or a payee. */
    refundedAfterRelease: bigint;
  }

  interface Model {
    clock: bigint;
    payments: ModelPayment[];
    claimable: Map<string, bigint>;
    paused: boolean;
    blocked: Set<string>;
  }

  interface Real {
    f: EscrowFixture;
    parties: HardhatEthersSigner[];
  }

  const BPS = 10_000n;

  // ---------------------------------------------------------------------------------------------------------------
  // Helpers shared by the commands
  // ---------------------------------------------------------------------------------------------------------------

  /** Runs the next transaction exactly at the model's next second, so deadlines are predictable to the second. */
  async function tick(m: Model, seconds = 1n): Promise<void> {
    m.clock += seconds;
    await ethers.provider.send("evm_setNextBlockTimestamp", [Number(m.clock)]);
  }

  const deadline = (mp: ModelPayment) => mp.p.confirmBy + mp.p.disputeWindow;
  const deliverable = (m: Model, to: string) => !m.paused && !m.blocked.has(to);

  /** The model's payouts for a release of `amount` with `feeBps`, into `out` (account → amount). */
  function releasePayouts(mp: ModelPayment, amount: bigint, feeBps: number, out: Map<string, bigint>): void {
    const fee = (amount * BigInt(feeBps)) / BPS;
    const add = (a: string, v: bigint) => v > 0n && out.set(a, (out.get(a) ?? 0n) + v);
    add(mp.p.feeReceiver, fee);
    const net = amount - fee;
    let first = net;
    for (const payee of mp.p.payees.slice(1)) {
      const share = (net * BigInt(payee.shareBps)) / BPS;
      first -= share;
      add(payee.account, share);
    }
    add(mp.p.payees[0].account, first);
  }

  /** Applies payouts to the model: delivered ones are expected as balance changes, the others become claimable. */
  function settle(m: Model, payouts: Map<string, bigint>, expected: Map<string, bigint>): void {
    for (const [account, amount] of payouts) {
      if (deliverable(m, account)) expected.set(account, (expected.get(account) ?? 0n) + amount);
      else m.claimable.set(account, (m.claimable.get(account) ?? 0n) + amount);
    }
  }

  function applyRelease(m: Model, mp: ModelPayment, amount: bigint, feeBps: number, expected: Map<string, bigint>): void {
    mp.held -= amount;
    mp.refundable += amount;
    mp.released += amount;
    if (mp.held === 0n) mp.status = 3;
    const payouts = new Map<string, bigint>();
    releasePayouts(mp, amount, feeBps, payouts);
    settle(m, payouts, expected);
  }

  function applyRefundHeld(m: Model, mp: ModelPayment, amount: bigint, expected: Map<string, bigint>): void {
    mp.held -= amount;
    mp.refundedFromHeld += amount;
    if (mp.held === 0n) mp.status = 3; // a terminal record, even when nothing was released (review finding L-02)
    settle(m, new Map([[mp.p.payer, amount]]), expected);
  }

  /** A predicted refusal: the custom error's name and arguments. */
  type Err = [name: string, args: unknown[]];
  const stats = { succeeded: 0, refused: 0, byError: new Map<string, number>() };
  const norm = (v: unknown): unknown => (typeof v === "string" ? v.toLowerCase() : typeof v === "number" ? BigInt(v) : v);

  /**
   * Sends `send()`, expecting success when `expected` is undefined, otherwise exactly that custom error. On success,
   * checks that exactly the `balances` changes happened (the escrow's own change is checked by the invariant).
   */
  async function act(r: Real, expected: Err | undefined, send: () => Promise<unknown>, balances: Map<string, bigint> = new Map()): Promise<void> {
    const accounts = [...balances.keys()];
    const before = await Promise.all(accounts.map((a) => r.f.token.balanceOf(a)));
    let error: unknown;
    try {
      await send();
    } catch (e) {
      error = e;
    }
    if (!expected) {
      if (error) throw new Error(`expected success, got ${toNetDollarError(error).message.slice(0, 300)}`);
      stats.succeeded++;
      const after = await Promise.all(accounts.map((a) => r.f.token.balanceOf(a)));
      accounts.forEach((a, k) => expect(after[k] - before[k], `balance change of ${a}`).to.equal(balances.get(a)));
      return;
    }
    if (!error) throw new Error(`expected ${expected[0]}(${expected[1].join(", ")}), but the call succeeded`);
    const refused = toNetDollarError(error);
    if (!(refused instanceof ChainRefusedError) || !refused.errorName) throw new Error(`undecodable failure: ${refused.message.slice(0, 300)}`);
    expect([refused.errorName, (refused.errorArgs ?? []).map(norm)]).to.deep.equal([expected[0], expected[1].map(norm)]);
    stats.refused++;
    stats.byError.set(expected[0], (stats.byError.get(expected[0]) ?? 0) + 1);
    // (a refused call mines nothing; the next tick moves the clock on)
  }

  /** What the token refuses when `from` sends `amount` to an account that is never blocklisted (the escrow). */
  function tokenPullError(m: Model, from: string, balance: bigint, amount: bigint): Err | undefined {
    if (m.paused) return ["NetDollarPaused", []];
    if (m.blocked.has(from)) return ["NetDollarBlocklisted", [from]];
    if (balance < amount) return ["ERC20InsufficientBalance", [from, balance, amount]];
    return undefined;
  }

  /** _loadActive: the payment must be funded, in `status`, with something held. */
  function activeError(mp: ModelPayment, status: 1 | 2): Err | undefined {
    if (mp.status === 0) return ["EscrowNotFunded", [mp.id]];
    if (mp.status !== status) return ["EscrowWrongStatus", [mp.id, mp.status]];
    if (mp.held === 0n) return ["EscrowNothingHeld", [mp.id]];
    return undefined;
  }

  const before = (m: Model, deadline: bigint): Err | undefined => (m.clock > deadline ? ["EscrowDeadlinePassed", [deadline, m.clock]] : undefined);
  const after = (m: Model, deadline: bigint): Err | undefined => (m.clock <= deadline ? ["EscrowDeadlineNotReached", [deadline, m.clock]] : undefined);
  const callerError = (caller: string, expected: string): Err | undefined =>
    caller !== expected || expected === ethers.ZeroAddress ? ["EscrowUnauthorized", [caller, expected]] : undefined;

  async function checkInvariants(m: Model, r: Real): Promise<void> {
    const { escrow, token, escrowAddress } = r.f;
    let owed = 0n;
    for (const mp of m.payments) {
      const s = await escrow.paymentState(mp.id);
      expect({ status: Number(s.status), held: s.held, refundable: s.refundable }, `state of ${mp.id}`).to.deep.equal({
        status: mp.status,
        held: mp.held,
        refundable: mp.refundable,
      });
      // Conservation: every funded unit is still held, released or refunded, never counted twice.
      expect(mp.held + mp.released + mp.refundedFromHeld, "held + released + refunded = funded").to.equal(mp.funded);
      expect(mp.released + mp.refundedFromHeld, "released + refunded <= funded").to.be.lte(mp.funded);
      expect(mp.refundedAfterRelease, "refunds after release <= released").to.be.lte(mp.released);
      expect(mp.refundable, "refundable = released - refunded after release").to.equal(mp.released - mp.refundedAfterRelease);
      owed += mp.held;
    }
    let claimable = 0n;
    for (const [account, amount] of m.claimable) {
      expect(await escrow.claimable(token, account), `claimable of ${account}`).to.equal(amount);
      claimable += amount;
    }
    expect(await token.balanceOf(escrowAddress), "escrow balance = held + claimable").to.equal(owed + claimable);
  }

  // ---------------------------------------------------------------------------------------------------------------
  // Commands
  // ---------------------------------------------------------------------------------------------------------------

  class CreateAndFund implements fc.AsyncCommand<Model, Real> {
    constructor(
      readonly amount: bigint,
      readonly payeeCount: number,
      readonly shareSeed: number[],
      readonly withOperator: boolean,
      readonly withArbiter: boolean,
      readonly fee: [number, number],
      readonly release: boolean,
      readonly byApproval: boolean,
    ) {}
    check = (m: Model) => m.payments.length < 6;
    async run(m: Model, r: Real): Promise<void> {
      const { f } = r;
      const weights = this.shareSeed.slice(0, this.payeeCount).map((w) => w + 1);
      const total = weights.reduce((a, b) => a + b, 0);
      const shares = weights.map((w) => Math.floor((w * 10_000) / total));
      shares[0] += 10_000 - shares.reduce((a, b) => a + b, 0);
      const [minFee, maxFee] = this.fee[0] <= this.fee[1] ? this.fee : [this.fee[1], this.fee[0]];
      const p = buildPayment({
        payer: f.payer.address,
        token: await f.token.getAddress(),
        amount: this.amount,
        payees: shares.map((shareBps, i) => ({ account: r.parties[i].address, shareBps })),
        verifier: f.verifier.address,
        operator: this.withOperator ? f.operator.address : undefined,
        arbiter: this.withArbiter ? f.arbiter.address : undefined,
        minFeeBps: minFee,
        maxFeeBps: maxFee,
        feeReceiver: maxFee > 0 ? f.feeReceiver.address : undefined,
        now: m.clock,
        fundWithin: 50n,
        confirmWithin: 100n,
        disputeWindow: 60n,
        refundWithin: 120n,
        defaultOutcome: this.release ? Outcome.Release : Outcome.Refund,
      });
      const id = f.idOf(p);
      const payerBalance = await f.token.balanceOf(p.payer);
      const refused = () => tokenPullError(m, p.payer, payerBalance, p.amount);
      let err: Err | undefined;
      if (this.byApproval) {
        await tick(m);
        await f.token.connect(f.payer).approve(f.escrowAddress, p.amount);
        await tick(m);
        err = refused();
        await act(r, err, () => f.escrow.connect(f.payer).fund(toStruct(p)), new Map([[p.payer, -p.amount]]));
      } else {
        const auth = { from: p.payer, to: f.escrowAddress, value: p.amount, validAfter: 0n, validBefore: p.fundBy + 1n, nonce: id };
        const sig = await signTransferAuthorization(f.payer, f.domain, auth, "receive");
        await tick(m);
        err = refused();
        await act(
          r,
          err,
          () => f.escrow.connect(f.relayer).fundWithAuthorization(toStruct(p), 0n, auth.validBefore, sig.signature),
          new Map([[p.payer, -p.amount]]),
        );
      }
      if (!err) {
        m.payments.push({ p, id, status: 1, held: p.amount, refundable: 0n, funded: p.amount, released: 0n, refundedFromHeld: 0n, refundedAfterRelease: 0n });
      }
      await checkInvariants(m, r);
    }
    toString = () =>
      `fund(${this.amount}, ${this.payeeCount} payees, op=${this.withOperator}, arb=${this.withArbiter}, fee=${this.fee}, ${this.release ? "release" : "refund"}, ${this.byApproval ? "approval" : "3009"})`;
  }

  abstract class OnPayment implements fc.AsyncCommand<Model, Real> {
    constructor(readonly index: number) {}
    check = (m: Model) => m.payments.length > 0;
    pick(m: Model): ModelPayment {
      return m.payments[this.index % m.payments.length];
    }
    abstract run(m: Model, r: Real): Promise<void>;
  }

  class Confirm extends OnPayment {
    override async run(m: Model, r: Real) {
      const mp = this.pick(m);
      await tick(m);
      const err = activeError(mp, 1) ?? before(m, mp.p.confirmBy);
      const expected = new Map<string, bigint>();
      if (!err) applyRelease(m, mp, mp.held, mp.p.minFeeBps, expected);
      await act(r, err, () => r.f.escrow.connect(r.f.verifier).confirm(toStruct(mp.p)), expected);
      await checkInvariants(m, r);
    }
    override toString = () => `confirm(${this.index})`;
  }

  class Capture extends OnPayment {
    constructor(
      index: number,
      readonly fraction: number,
      readonly feeBps: number,
    ) {
      super(index);
    }
    override async run(m: Model, r: Real) {
      const mp = this.pick(m);
      await tick(m);
      const amount = (mp.held * BigInt(this.fraction)) / 100n;
      let err = callerError(r.f.operator.address, mp.p.operator) ?? activeError(mp, 1) ?? before(m, mp.p.confirmBy);
      if (!err && amount === 0n) err = ["EscrowZeroAmount", []];
      if (!err && amount > mp.held) err = ["EscrowAmountExceedsHeld", [amount, mp.held]];
      if (!err && (this.feeBps < mp.p.minFeeBps || this.feeBps > mp.p.maxFeeBps)) err = ["EscrowFeeOutOfBounds", [this.feeBps, mp.p.minFeeBps, mp.p.maxFeeBps]];
      const expected = new Map<string, bigint>();
      if (!err) applyRelease(m, mp, amount, this.feeBps, expected);
      await act(r, err, () => r.f.escrow.connect(r.f.operator).capture(toStruct(mp.p), amount, this.feeBps), expected);
      await checkInvariants(m, r);
    }
    override toString = () => `capture(${this.index}, ${this.fraction}%, ${this.feeBps} bps)`;
  }

  class Void extends OnPayment {
    override async run(m: Model, r: Real) {
      const mp = this.pick(m);
      await tick(m);
      const err = callerError(r.f.operator.address, mp.p.operator) ?? activeError(mp, 1) ?? before(m, deadline(mp));
      const expected = new Map<string, bigint>();
      if (!err) applyRefundHeld(m, mp, mp.held, expected);
      await act(r, err, () => r.f.escrow.connect(r.f.operator).void(toStruct(mp.p)), expected);
      await checkInvariants(m, r);
    }
    override toString = () => `void(${this.index})`;
  }

  class DefaultOutcome extends OnPayment {
    override async run(m: Model, r: Real) {
      const mp = this.pick(m);
      await tick(m);
      const release = mp.p.defaultOutcome === Outcome.Release;
      const err = mp.status === 2 ? after(m, mp.p.refundBy) : (activeError(mp, 1) ?? after(m, deadline(mp)));
      const expected = new Map<string, bigint>();
      if (!err) {
        mp.status = 1;
        if (release) applyRelease(m, mp, mp.held, mp.p.minFeeBps, expected);
        else applyRefundHeld(m, mp, mp.held, expected);
      }
      await act(
        r,
        err,
        () => (release ? r.f.escrow.connect(r.f.other).release(toStruct(mp.p)) : r.f.escrow.connect(r.f.other).reclaim(toStruct(mp.p))),
        expected,
      );
      await checkInvariants(m, r);
    }
    override toString = () => `defaultOutcome(${this.index})`;
  }

  class Dispute extends OnPayment {
    constructor(
      index: number,
      readonly byPayee: boolean,
    ) {
      super(index);
    }
    override async run(m: Model, r: Real) {
      const mp = this.pick(m);
      await tick(m);
      let err = activeError(mp, 1);
      if (!err && mp.p.arbiter === ethers.ZeroAddress) err = ["EscrowNoArbiter", [mp.id]];
      err ??= before(m, deadline(mp));
      const by = this.byPayee ? r.parties[0] : r.f.payer;
      if (!err) mp.status = 2;
      await act(r, err, () => r.f.escrow.connect(by).dispute(toStruct(mp.p)));
      await checkInvariants(m, r);
    }
    override toString = () => `dispute(${this.index}, ${this.byPayee ? "payee" : "payer"})`;
  }

  class Rule extends OnPayment {
    constructor(
      index: number,
      readonly payerShareBps: number,
    ) {
      super(index);
    }
    override async run(m: Model, r: Real) {
      const mp = this.pick(m);
      await tick(m);
      const err = callerError(r.f.arbiter.address, mp.p.arbiter) ?? activeError(mp, 2) ?? before(m, mp.p.refundBy);
      const expected = new Map<string, bigint>();
      if (!err) {
        const held = mp.held;
        const toPayer = (held * BigInt(this.payerShareBps)) / BPS;
        mp.status = 1;
        if (toPayer > 0n) applyRefundHeld(m, mp, toPayer, expected);
        if (held > toPayer) applyRelease(m, mp, held - toPayer, mp.p.minFeeBps, expected);
      }
      await act(r, err, () => r.f.escrow.connect(r.f.arbiter).rule(toStruct(mp.p), this.payerShareBps), expected);
      await checkInvariants(m, r);
    }
    override toString = () => `rule(${this.index}, ${this.payerShareBps} bps)`;
  }

  class Refund extends OnPayment {
    constructor(
      index: number,
      readonly fraction: number,
      readonly byOperator: boolean,
    ) {
      super(index);
    }
    override async run(m: Model, r: Real) {
      const mp = this.pick(m);
      await tick(m);
      const refunder = this.byOperator ? r.f.operator : r.parties[0];
      const isRefunder = this.byOperator ? mp.p.operator === refunder.address : mp.p.payees.some((x) => x.account === refunder.address);
      const amount = (mp.refundable * BigInt(this.fraction)) / 100n;
      const balance = await r.f.token.balanceOf(refunder);
      let err: Err | undefined = isRefunder ? undefined : ["EscrowNotARefunder", [refunder.address]];
      if (!err && mp.status === 0) err = ["EscrowNotFunded", [mp.id]];
      err ??= before(m, mp.p.refundBy);
      if (!err && amount === 0n) err = ["EscrowZeroAmount", []];
      if (!err && amount > mp.refundable) err = ["EscrowAmountExceedsRefundable", [amount, mp.refundable]];
      err ??= tokenPullError(m, refunder.address, balance, amount);
      const expected = new Map<string, bigint>();
      if (!err) {
        mp.refundable -= amount;
        mp.refundedAfterRelease += amount;
        expected.set(refunder.address, -amount);
        settle(m, new Map([[mp.p.payer, amount]]), expected);
      }
      await act(r, err, () => r.f.escrow.connect(refunder).refund(toStruct(mp.p), amount), expected);
      await checkInvariants(m, r);
    }
    override toString = () => `refund(${this.index}, ${this.fraction}%, by ${this.byOperator ? "operator" : "payee"})`;
  }

  class Withdraw implements fc.AsyncCommand<Model, Real> {
    constructor(readonly who: number) {}
    check = () => true;
    async run(m: Model, r: Real) {
      const account = this.who < r.parties.length ? r.parties[this.who] : r.f.payer;
      const owed = m.claimable.get(account.address) ?? 0n;
      await tick(m);
      let err: Err | undefined;
      if (owed === 0n) err = ["EscrowNothingToWithdraw", [await r.f.token.getAddress(), account.address]];
      else if (m.paused) err = ["NetDollarPaused", []];
      else if (m.blocked.has(account.address)) err = ["NetDollarBlocklisted", [account.address]];
      if (!err) m.claimable.delete(account.address);
      await act(r, err, () => r.f.escrow.connect(account).withdraw(r.f.token), new Map(err ? [] : [[account.address, owed]]));
      await checkInvariants(m, r);
    }
    toString = () => `withdraw(${this.who})`;
  }

  class Block implements fc.AsyncCommand<Model, Real> {
    constructor(readonly who: number) {}
    check = () => true;
    async run(m: Model, r: Real) {
      const account = this.who < r.parties.length ? r.parties[this.who].address : r.f.payer.address;
      await tick(m);
      if (m.blocked.has(account)) {
        m.blocked.delete(account);
        await r.f.token.connect(r.f.blocklister).unblocklist(account);
      } else {
        m.blocked.add(account);
        await r.f.token.connect(r.f.blocklister).blocklist(account);
      }
    }
    toString = () => `toggleBlocklist(${this.who})`;
  }

  class TogglePause implements fc.AsyncCommand<Model, Real> {
    check = () => true;
    async run(m: Model, r: Real) {
      await tick(m);
      if (m.paused) await r.f.token.connect(r.f.pauser).unpause();
      else await r.f.token.connect(r.f.pauser).pause();
      m.paused = !m.paused;
    }
    toString = () => "togglePause";
  }

  class Wait implements fc.AsyncCommand<Model, Real> {
    constructor(readonly seconds: number) {}
    check = () => true;
    async run(m: Model) {
      m.clock += BigInt(this.seconds);
    }
    toString = () => `wait(${this.seconds}s)`;
  }

  /**
   * Runs an action on a payment exactly at one of its deadlines (offset 0) or one second after (offset 1), when that is
   * not in the past: the boundaries are where off-by-one bugs live.
   */
  class AtDeadline implements fc.AsyncCommand<Model, Real> {
    constructor(
      readonly inner: OnPayment,
      readonly which: "confirmBy" | "disputeDeadline" | "refundBy",
      readonly offset: 0 | 1,
    ) {}
    check = (m: Model) => this.inner.check(m);
    async run(m: Model, r: Real) {
      const mp = this.inner.pick(m);
      const at = (this.which === "confirmBy" ? mp.p.confirmBy : this.which === "refundBy" ? mp.p.refundBy : deadline(mp)) + BigInt(this.offset);
      if (at - 1n > m.clock) m.clock = at - 1n; // the action's own tick adds the last second
      await this.inner.run(m, r);
    }
    toString = () => `${this.inner.toString()} at ${this.which}${this.offset ? " + 1" : ""}`;
  }

  /** Now, or exactly at the action's deadline, or a second after it. */
  const timed = (arb: fc.Arbitrary<OnPayment>, which: AtDeadline["which"]): fc.Arbitrary<fc.AsyncCommand<Model, Real>> =>
    fc.tuple(arb, fc.constantFrom<"now" | 0 | 1>("now", "now", 0, 1)).map(([c, t]) => (t === "now" ? c : new AtDeadline(c, which, t)));

  const index = fc.nat(5);
  const fund = fc
    .tuple(
      fc.bigInt(1n, 500n * USD),
      fc.integer({ min: 1, max: 4 }),
      fc.array(fc.nat(20), { minLength: 4, maxLength: 4 }),
      fc.boolean(),
      fc.boolean(),
      fc.tuple(fc.constantFrom(0, 50, 100), fc.constantFrom(0, 100, 300)),
      fc.boolean(),
      fc.boolean(),
    )
    .map(([a, n, s, o, arb, fee, rel, appr]) => new CreateAndFund(a, n, s, o, arb, fee, rel, appr));
  const commands = [
    fund,
    fund, // (weighted: most other actions need a payment to act on)
    fund,
    timed(
      index.map((i) => new Confirm(i)),
      "confirmBy",
    ),
    timed(
      fc.tuple(index, fc.integer({ min: 0, max: 100 }), fc.constantFrom(0, 50, 100, 200, 300)).map(([i, p, fee]) => new Capture(i, p, fee)),
      "confirmBy",
    ),
    timed(
      index.map((i) => new Void(i)),
      "disputeDeadline",
    ),
    timed(
      index.map((i) => new DefaultOutcome(i)),
      "disputeDeadline",
    ),
    timed(
      index.map((i) => new DefaultOutcome(i)),
      "refundBy",
    ),
    timed(
      fc.tuple(index, fc.boolean()).map(([i, b]) => new Dispute(i, b)),
      "disputeDeadline",
    ),
    timed(
      fc.tuple(index, fc.integer({ min: 0, max: 10_000 })).map(([i, bps]) => new Rule(i, bps)),
      "refundBy",
    ),
    timed(
      fc.tuple(index, fc.integer({ min: 0, max: 100 }), fc.boolean()).map(([i, p, b]) => new Refund(i, p, b)),
      "refundBy",
    ),
    fc.nat(4).map((w) => new Withdraw(w)),
    fc.nat(4).map((w) => new Block(w)),
    fc.constant(new TogglePause()),
    fc.integer({ min: 1, max: 200 }).map((s) => new Wait(s)),
  ];

  async function setup(): Promise<{ f: EscrowFixture; parties: HardhatEthersSigner[] }> {
    const f = await escrowFixture();
    await f.token.connect(f.minter).mint(f.payer, 100_000n * USD);
    await f.token.connect(f.minter).mint(f.operator, 100_000n * USD);
    const parties = [...f.payees, f.bob];
    for (const s of [f.operator, ...parties]) await f.token.connect(s).approve(f.escrowAddress, ethers.MaxUint256);
    return { f, parties };
  }

  it("keeps the escrow's balance equal to what it holds and owes, and every payment's books exact", async function () {
    const params = fcParameters("escrow", { numRuns: 100 });
    await fc.assert(
      fc.asyncProperty(fc.commands(commands, { maxCommands: 40, size: "max" }), async (cmds) => {
        const { f, parties } = await loadFixture(setup);
        const start = BigInt((await ethers.provider.getBlock("latest"))!.timestamp) + 1n;
        const model: Model = { clock: start, payments: [], claimable: new Map(), paused: false, blocked: new Set() };
        await fc.asyncModelRun(() => ({ model, real: { f, parties } }), cmds);
      }),
      params,
    );
    const top = [...stats.byError.entries()].sort((x, y) => y[1] - x[1]);
    console.log(
      `      [fast-check escrow] ${stats.succeeded} actions succeeded and ${stats.refused} were refused with the predicted error (${top.map(([n, c]) => `${n} ${c}`).join(", ")})`,
    );
    expect(stats.succeeded).to.be.greaterThan(0);
    expect(stats.refused).to.be.greaterThan(0);
  });
});
