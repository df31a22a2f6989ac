import { expect } from "chai";
import { ethers } from "hardhat";
import { loadFixture } from "@nomicfoundation/hardhat-network-helpers";
import fc from "fast-check";
import { channelsFixture, USD, type ChannelsFixture } from "../channels/fixture";
import { fcParameters } from "../helpers/fastcheck";
import { toNetDollarError } from "../../src/decode";
import { ChainRefusedError } from "../../src/errors";
import { MIN_WITHDRAW_DELAY, type ChannelConfig, type VoucherClaim } from "../../src/x402/batch/channel";

/**
 * Property-based, model-based test of the payment channels: random sequences of deposits, vouchers, signed claim
 * batches, settles, refunds (direct and signed, with right and wrong nonces), timed withdrawals, time jumps across the
 * withdrawal delay, and pauses of NET Dollar. A plain model predicts each outcome, success or the exact custom error
 * with its arguments; after every step:
 *
 * - the contract's token holdings equal what it owes payers (unclaimed escrow) plus what it owes receivers (claimed,
 *   not yet settled);
 * - every channel's and receiver's on-chain state equals the model's;
 * - no channel ever paid out (claims, refunds, withdrawals) more than was deposited into it;
 * - no channel's claimed total is above the highest ceiling its payer signed.
 */
describe("BatchSettlement: invariants over random sequences (fast-check)", function () {
  this.timeout(0);

  interface ModelChannel {
    config: ChannelConfig;
    id: string;
    balance: bigint;
    claimed: bigint;
    wAmount: bigint;
    wAt: bigint;
    nonce: bigint;
    /** The highest ceiling the payer has signed, and its voucher. */
    ceiling: bigint;
    voucher?: VoucherClaim;
    deposited: bigint;
    paidOut: bigint;
  }

  interface Model {
    clock: bigint;
    channels: ModelChannel[];
    receivers: Map<string, { claimed: bigint; settled: bigint }>;
    paused: boolean;
  }

  type Expect = { ok: true } | { ok: false; error: string; args?: unknown[] };
  type Step = (f: ChannelsFixture, m: Model) => Promise<void>;

  async function tick(m: Model, seconds = 1n): Promise<void> {
    m.clock += seconds;
    await ethers.provider.send("evm_setNextBlockTimestamp", [Number(m.clock)]);
  }

  /** Runs `send` and compares its outcome with `expected` (the exact custom error and arguments on a refusal). */
  async function outcome(f: ChannelsFixture, send: () => Promise<unknown>, expected: Expect): Promise<boolean> {
    try {
      await (await (send() as Promise<{ wait(): Promise<unknown> }>)).wait();
    } catch (error) {
      const e = toNetDollarError(error);
      if (expected.ok) throw new Error(`expected success, got ${e.shortMessage}`, { cause: error });
      expect(e).to.be.instanceOf(ChainRefusedError);
      const refused = e as ChainRefusedError;
      expect(refused.errorName, e.shortMessage).to.equal(expected.error);
      if (expected.args) expect([...refused.errorArgs!]).to.deep.equal(expected.args);
      return false;
    }
    if (!expected.ok) throw new Error(`expected ${expected.error}, the transaction succeeded`);
    return true;
  }

  const receiverState = (m: Model, r: string) => {
    if (!m.receivers.has(r)) m.receivers.set(r, { claimed: 0n, settled: 0n });
    return m.receivers.get(r)!;
  };

  const deposit =
    (i: number, amount: bigint): Step =>
    async (f, m) => {
      const ch = m.channels[i];
      // The library refuses to sign a zero deposit: sign one unit and present zero, to meet the contract's own check.
      const [config, , collector, data] = await f.depositArgs(ch.config, amount === 0n ? 1n : amount, { validBefore: m.clock + 10_000n });
      const args = [config, amount, collector, data] as const;
      await tick(m);
      const expected: Expect =
        amount === 0n ? { ok: false, error: "BatchSettlementZeroAmount" } : m.paused ? { ok: false, error: "NetDollarPaused" } : { ok: true };
      if (await outcome(f, () => f.channels.deposit(...args), expected)) {
        ch.balance += amount;
        ch.deposited += amount;
      }
    };

  const sign =
    (i: number, increase: bigint): Step =>
    async (f, m) => {
      const ch = m.channels[i];
      ch.ceiling += increase;
      ch.voucher = await f.row(ch.config, ch.ceiling, ch.ceiling);
    };

  /** A signed claim batch of the channels in `which`, each claiming its latest voucher's ceiling minus `under` (may exceed balance). */
  const claim =
    (which: number[], under: bigint[]): Step =>
    async (f, m) => {
      const rows: VoucherClaim[] = [];
      const picked: ModelChannel[] = [];
      which.forEach((i, k) => {
        const ch = m.channels[i];
        if (!ch.voucher || picked.includes(ch)) return;
        const target = ch.voucher.maxClaimableAmount > under[k] ? ch.voucher.maxClaimableAmount - under[k] : 0n;
        rows.push({ ...ch.voucher, totalClaimed: target });
        picked.push(ch);
      });
      if (rows.length === 0) return;
      let expected: Expect = { ok: true };
      for (let k = 0; k < rows.length && expected.ok; k++) {
        const ch = picked[k];
        const target = rows[k].totalClaimed;
        if (target <= ch.claimed) continue;
        if (target > rows[k].maxClaimableAmount) expected = { ok: false, error: "BatchSettlementClaimExceedsCeiling" };
        else if (target > ch.balance) expected = { ok: false, error: "BatchSettlementClaimExceedsBalance", args: [ch.id, target, ch.balance] };
      }
      await tick(m);
      if (await outcome(f, () => f.claimSigned(rows), expected)) {
        rows.forEach((row, k) => {
          const ch = picked[k];
          if (row.totalClaimed <= ch.claimed) return;
          receiverState(m, ch.config.receiver).claimed += row.totalClaimed - ch.claimed;
          ch.paidOut += row.totalClaimed - ch.claimed;
          ch.claimed = row.totalClaimed;
        });
      }
    };

  const settle =
    (r: number): Step =>
    async (f, m) => {
      const receiver = [f.receiver.address, f.other.address][r];
      const s = receiverState(m, receiver);
      const amount = s.claimed - s.settled;
      await tick(m);
      const expected: Expect = amount > 0n && m.paused ? { ok: false, error: "NetDollarPaused" } : { ok: true };
      const before = await f.token.balanceOf(receiver);
      if (await outcome(f, () => f.channels.settle(receiver, f.tokenAddress), expected)) {
        s.settled = s.claimed;
        expect(await f.token.balanceOf(receiver)).to.equal(before + amount);
      }
    };

  const refund =
    (i: number, amount: bigint, signed: boolean, nonceOffset: bigint): Step =>
    async (f, m) => {
      const ch = m.channels[i];
      const nonce = ch.nonce + nonceOffset;
      const refunded = amount < ch.balance - ch.claimed ? amount : ch.balance - ch.claimed;
      let expected: Expect = { ok: true };
      if (amount === 0n) expected = { ok: false, error: "BatchSettlementZeroAmount" };
      else if (signed && nonceOffset !== 0n) expected = { ok: false, error: "BatchSettlementInvalidRefundNonce", args: [ch.id, nonce, ch.nonce] };
      else if (refunded > 0n && m.paused) expected = { ok: false, error: "NetDollarPaused" };
      const sig = signed && amount > 0n ? await f.refundSignature(ch.config, nonce, amount) : "0x";
      await tick(m);
      const send = () =>
        signed ? f.channels.connect(f.relayer).refundWithSignature(ch.config, amount, nonce, sig) : f.channels.connect(f.authorizer).refund(ch.config, amount);
      if (await outcome(f, send, expected)) {
        ch.nonce++;
        ch.balance -= refunded;
        ch.paidOut += refunded;
        if (ch.wAt !== 0n && refunded > 0n) {
          if (refunded < ch.wAmount) ch.wAmount -= refunded;
          else [ch.wAmount, ch.wAt] = [0n, 0n];
        }
      }
    };

  const initiate =
    (i: number, amount: bigint): Step =>
    async (f, m) => {
      const ch = m.channels[i];
      const available = ch.balance - ch.claimed;
      await tick(m);
      let expected: Expect = { ok: true };
      if (amount === 0n) expected = { ok: false, error: "BatchSettlementZeroAmount" };
      else if (ch.wAt !== 0n) expected = { ok: false, error: "BatchSettlementWithdrawalPending", args: [ch.id, ch.wAt] };
      else if (amount > available) expected = { ok: false, error: "BatchSettlementWithdrawExceedsAvailable", args: [ch.id, amount, available] };
      const payer = await ethers.getSigner(ch.config.payer);
      if (await outcome(f, () => f.channels.connect(payer).initiateWithdraw(ch.config, amount), expected)) [ch.wAmount, ch.wAt] = [amount, m.clock];
    };

  const finalize =
    (i: number): Step =>
    async (f, m) => {
      const ch = m.channels[i];
      await tick(m);
      const available = ch.balance - ch.claimed;
      const amount = ch.wAmount < available ? ch.wAmount : available;
      let expected: Expect = { ok: true };
      if (ch.wAt === 0n) expected = { ok: false, error: "BatchSettlementNoWithdrawalPending", args: [ch.id] };
      else if (m.clock < ch.wAt + BigInt(MIN_WITHDRAW_DELAY))
        expected = { ok: false, error: "BatchSettlementWithdrawDelayNotElapsed", args: [ch.id, ch.wAt + BigInt(MIN_WITHDRAW_DELAY)] };
      else if (amount > 0n && m.paused) expected = { ok: false, error: "NetDollarPaused" };
      const payer = await ethers.getSigner(ch.config.payer);
      if (await outcome(f, () => f.channels.connect(payer).finalizeWithdraw(ch.config), expected)) {
        ch.balance -= amount;
        ch.paidOut += amount;
        [ch.wAmount, ch.wAt] = [0n, 0n];
      }
    };

  const jump =
    (seconds: bigint): Step =>
    async (_f, m) => {
      m.clock += seconds;
    };

  const togglePause = (): Step => async (f, m) => {
    await tick(m);
    if (m.paused) await f.token.connect(f.pauser).unpause();
    else await f.token.connect(f.pauser).pause();
    m.paused = !m.paused;
  };

  const amount = fc.oneof({ weight: 1, arbitrary: fc.constant(0n) }, { weight: 6, arbitrary: fc.bigInt({ min: 1n, max: 5n * USD }) });
  const ch = fc.integer({ min: 0, max: 3 });
  const stepArb: fc.Arbitrary<Step> = fc.oneof(
    { weight: 4, arbitrary: fc.tuple(ch, amount).map(([i, a]) => deposit(i, a)) },
    { weight: 5, arbitrary: fc.tuple(ch, fc.bigInt({ min: 1n, max: 3n * USD })).map(([i, a]) => sign(i, a)) },
    {
      weight: 4,
      arbitrary: fc.array(fc.tuple(ch, fc.oneof(fc.constant(0n), fc.bigInt({ min: 0n, max: 2n * USD }))), { minLength: 1, maxLength: 4 }).map((rows) =>
        claim(
          rows.map((r) => r[0]),
          rows.map((r) => r[1]),
        ),
      ),
    },
    { weight: 2, arbitrary: fc.integer({ min: 0, max: 1 }).map(settle) },
    {
      weight: 2,
      arbitrary: fc
        .tuple(ch, amount, fc.boolean(), fc.oneof({ weight: 4, arbitrary: fc.constant(0n) }, { weight: 1, arbitrary: fc.constant(1n) }))
        .map(([i, a, s, o]) => refund(i, a, s, o)),
    },
    { weight: 2, arbitrary: fc.tuple(ch, amount).map(([i, a]) => initiate(i, a)) },
    { weight: 2, arbitrary: ch.map(finalize) },
    { weight: 2, arbitrary: fc.constantFrom(0n, 1n, BigInt(MIN_WITHDRAW_DELAY) - 2n, BigInt(MIN_WITHDRAW_DELAY)).map(jump) },
    { weight: 1, arbitrary: fc.constant(togglePause()) },
  );

  async function checkInvariants(f: ChannelsFixture, m: Model): Promise<void> {
    let owedToPayers = 0n;
    for (const c of m.channels) {
      expect(await f.state(c.config)).to.deep.equal({
        balance: c.balance,
        totalClaimed: c.claimed,
        withdrawal: c.wAmount,
        initiatedAt: c.wAt,
        refundNonce: c.nonce,
      });
      expect(c.paidOut).to.be.lte(c.deposited);
      expect(c.claimed).to.be.lte(c.ceiling);
      owedToPayers += c.balance - c.claimed;
    }
    let owedToReceivers = 0n;
    for (const [r, s] of m.receivers) {
      expect(await f.channels.receivers(r, f.tokenAddress)).to.deep.equal([s.claimed, s.settled]);
      owedToReceivers += s.claimed - s.settled;
    }
    expect(await f.token.balanceOf(f.channelsAddress)).to.equal(owedToPayers + owedToReceivers);
  }

  it("holds its invariants and matches the model, step by step", async function () {
    const params = fcParameters<[Step[]]>("channels", { numRuns: 25 });
    await fc.assert(
      fc.asyncProperty(fc.array(stepArb, { minLength: 5, maxLength: 20 }), async (steps) => {
        const f = await loadFixture(channelsFixture);
        const head = (await ethers.provider.getBlock("latest"))!;
        // Channels of alice and bob, to two receivers, one with a separate payer authorizer.
        const configs = [
          f.config(),
          f.config({ payer: f.bob.address, payerAuthorizer: f.bob.address }),
          f.config({ receiver: f.other.address, payerAuthorizer: f.voucherKey.address }),
          f.config({ payer: f.bob.address, payerAuthorizer: f.bob.address, receiver: f.other.address }),
        ];
        const m: Model = {
          clock: BigInt(head.timestamp),
          channels: configs.map((config) => ({
            config,
            id: f.idOf(config),
            balance: 0n,
            claimed: 0n,
            wAmount: 0n,
            wAt: 0n,
            nonce: 0n,
            ceiling: 0n,
            deposited: 0n,
            paidOut: 0n,
          })),
          receivers: new Map(),
          paused: false,
        };
        for (const step of steps) {
          await step(f, m);
          await checkInvariants(f, m);
        }
      }),
      params,
    );
  });
});
