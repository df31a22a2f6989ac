import { expect } from "chai";
import { loadFixture } from "@nomicfoundation/hardhat-network-helpers";
import { AMOUNT, Status, USD, escrowFixture, stateOf, toStruct } from "./fixture";
import { atTimestamp, thenRevert } from "../helpers/time";

describe("ConditionalEscrow: capture (the operator releases, full or partial)", function () {
  async function captureFixture() {
    const f = await escrowFixture();
    const p = await f.terms({ operator: f.operator.address, minFeeBps: 100, maxFeeBps: 250, feeReceiver: f.feeReceiver.address });
    await f.fundWithAuthorization(p);
    return { ...f, p };
  }

  it("captures in parts with a fee chosen within the bounds, then settles", async function () {
    const f = await loadFixture(captureFixture);
    const first = 30n * USD;
    await expect(f.escrow.connect(f.operator).capture(toStruct(f.p), first, 250))
      .to.emit(f.escrow, "PaymentReleased")
      .withArgs(f.idOf(f.p), f.operator.address, first, (first * 250n) / 10_000n);
    expect(await stateOf(f, f.p)).to.deep.equal({ status: Status.Funded, held: AMOUNT - first, refundable: first });
    const rest = AMOUNT - first;
    await expect(f.escrow.connect(f.operator).capture(toStruct(f.p), rest, 100)).to.changeTokenBalances(
      f.token,
      [f.feeReceiver, f.payees[0], f.escrowAddress],
      [rest / 100n, rest - rest / 100n, -rest],
    );
    expect(await stateOf(f, f.p)).to.deep.equal({ status: Status.Settled, held: 0n, refundable: AMOUNT });
    expect(await f.token.balanceOf(f.feeReceiver)).to.equal((first * 250n) / 10_000n + rest / 100n);
  });

  it("refuses a fee outside the bounds", async function () {
    const f = await loadFixture(captureFixture);
    for (const fee of [99, 251]) {
      await expect(f.escrow.connect(f.operator).capture(toStruct(f.p), 1n, fee))
        .to.be.revertedWithCustomError(f.escrow, "EscrowFeeOutOfBounds")
        .withArgs(fee, 100, 250);
    }
  });

  it("refuses zero and more than is held", async function () {
    const f = await loadFixture(captureFixture);
    await expect(f.escrow.connect(f.operator).capture(toStruct(f.p), 0n, 100)).to.be.revertedWithCustomError(f.escrow, "EscrowZeroAmount");
    await expect(f.escrow.connect(f.operator).capture(toStruct(f.p), AMOUNT + 1n, 100))
      .to.be.revertedWithCustomError(f.escrow, "EscrowAmountExceedsHeld")
      .withArgs(AMOUNT + 1n, AMOUNT);
  });

  it("only the operator may capture", async function () {
    const f = await loadFixture(captureFixture);
    for (const caller of [f.verifier, f.payer, f.payees[0], f.feeReceiver]) {
      await expect(f.escrow.connect(caller).capture(toStruct(f.p), 1n, 100))
        .to.be.revertedWithCustomError(f.escrow, "EscrowUnauthorized")
        .withArgs(caller.address, f.operator.address);
    }
  });

  it("is allowed until confirmBy: t-1 and t succeed, t+1 is refused", async function () {
    const f = await loadFixture(captureFixture);
    for (const t of [f.p.confirmBy - 1n, f.p.confirmBy]) {
      await thenRevert(async () => {
        await atTimestamp(t);
        await expect(f.escrow.connect(f.operator).capture(toStruct(f.p), 1n, 100)).to.emit(f.escrow, "PaymentReleased");
      });
    }
    await atTimestamp(f.p.confirmBy + 1n);
    await expect(f.escrow.connect(f.operator).capture(toStruct(f.p), 1n, 100))
      .to.be.revertedWithCustomError(f.escrow, "EscrowDeadlinePassed")
      .withArgs(f.p.confirmBy, f.p.confirmBy + 1n);
  });

  it("what is left after a partial capture follows the default outcome", async function () {
    const f = await loadFixture(captureFixture);
    await f.escrow.connect(f.operator).capture(toStruct(f.p), 40n * USD, 100);
    await atTimestamp(f.p.confirmBy + f.p.disputeWindow + 1n);
    await expect(f.escrow.reclaim(toStruct(f.p))).to.changeTokenBalances(f.token, [f.payer, f.escrowAddress], [60n * USD, -60n * USD]);
    expect(await stateOf(f, f.p)).to.deep.equal({ status: Status.Settled, held: 0n, refundable: 40n * USD });
  });
});
