import { expect } from "chai";
import { loadFixture } from "@nomicfoundation/hardhat-network-helpers";
import { AMOUNT, Outcome, Status, escrowFixture, stateOf, toStruct } from "./fixture";
import { atTimestamp, thenRevert } from "../helpers/time";

describe("ConditionalEscrow: release (the default outcome pays the payees when nobody acts)", function () {
  async function releaseFixture() {
    const f = await escrowFixture();
    const p = await f.terms({ defaultOutcome: Outcome.Release, arbiter: f.arbiter.address });
    await f.fundWithAuthorization(p);
    return { ...f, p, deadline: p.confirmBy + p.disputeWindow };
  }

  it("anyone releases after confirmBy + disputeWindow: t-1 and t are too early, t+1 pays the payees in full", async function () {
    const f = await loadFixture(releaseFixture);
    for (const t of [f.deadline - 1n, f.deadline]) {
      await thenRevert(async () => {
        await atTimestamp(t);
        await expect(f.escrow.connect(f.other).release(toStruct(f.p)))
          .to.be.revertedWithCustomError(f.escrow, "EscrowDeadlineNotReached")
          .withArgs(f.deadline, t);
      });
    }
    await atTimestamp(f.deadline + 1n);
    const tx = f.escrow.connect(f.other).release(toStruct(f.p));
    await expect(tx).to.emit(f.escrow, "PaymentReleased").withArgs(f.idOf(f.p), f.other.address, AMOUNT, 0n);
    await expect(tx).to.changeTokenBalances(f.token, [f.payees[0], f.escrowAddress], [AMOUNT, -AMOUNT]);
    expect(await stateOf(f, f.p)).to.deep.equal({ status: Status.Settled, held: 0n, refundable: AMOUNT });
  });

  it("is refused when the default outcome is Refund (that is reclaim's job)", async function () {
    const f = await loadFixture(escrowFixture);
    const p = await f.terms({ defaultOutcome: Outcome.Refund });
    await f.fundWithAuthorization(p);
    await atTimestamp(p.confirmBy + p.disputeWindow + 1n);
    await expect(f.escrow.release(toStruct(p)))
      .to.be.revertedWithCustomError(f.escrow, "EscrowWrongOutcome")
      .withArgs(Outcome.Refund);
  });

  it("after a dispute nobody ruled on, the payees still get 100% once refundBy has passed (t+1), not before (t)", async function () {
    const f = await loadFixture(releaseFixture);
    await f.escrow.connect(f.payer).dispute(toStruct(f.p));
    await atTimestamp(f.p.refundBy);
    await expect(f.escrow.release(toStruct(f.p)))
      .to.be.revertedWithCustomError(f.escrow, "EscrowDeadlineNotReached")
      .withArgs(f.p.refundBy, f.p.refundBy);
    await atTimestamp(f.p.refundBy + 1n);
    await expect(f.escrow.release(toStruct(f.p))).to.changeTokenBalances(f.token, [f.payees[0]], [AMOUNT]);
  });

  it("has nothing to release once settled, and refuses unfunded terms", async function () {
    const f = await loadFixture(releaseFixture);
    await atTimestamp(f.deadline + 1n);
    await f.escrow.release(toStruct(f.p));
    await expect(f.escrow.release(toStruct(f.p)))
      .to.be.revertedWithCustomError(f.escrow, "EscrowWrongStatus")
      .withArgs(f.idOf(f.p), Status.Settled);
    const q = await f.terms({ defaultOutcome: Outcome.Release });
    await expect(f.escrow.release(toStruct(q)))
      .to.be.revertedWithCustomError(f.escrow, "EscrowNotFunded")
      .withArgs(f.idOf(q));
  });
});
