import { expect } from "chai";
import { ethers } from "hardhat";
import { loadFixture } from "@nomicfoundation/hardhat-network-helpers";
import { AMOUNT, Outcome, Status, USD, escrowFixture, stateOf, toStruct } from "./fixture";
import { atTimestamp, thenRevert } from "../helpers/time";
import { INITIAL_BALANCE } from "../helpers/fixtures";
import { signTransferAuthorization } from "../../src/eip712";

describe("ConditionalEscrow: void, reclaim and refund (money back to the payer)", function () {
  it("a payment refunded in full can never be funded again, so its unused signatures stay dead (review finding L-02)", async function () {
    const f = await loadFixture(escrowFixture);
    const p = await f.terms({ arbiter: f.arbiter.address });
    const id = f.idOf(p);
    // The payer signs an EIP-3009 funding authorization but funds by approval instead; the verifier's receipt exists.
    const auth = { from: p.payer, to: f.escrowAddress, value: p.amount, validAfter: 0n, validBefore: p.fundBy + 1n, nonce: id };
    const sig = await signTransferAuthorization(f.payer, f.domain, auth, "receive");
    const receipt = await f.receipt(p);
    await f.fundByApproval(p);
    await f.escrow.connect(f.payer).dispute(toStruct(p));
    await f.escrow.connect(f.arbiter).rule(toStruct(p), 10_000); // the payer wins everything back
    expect(await stateOf(f, p)).to.deep.equal({ status: Status.Settled, held: 0n, refundable: 0n });
    const [payerBefore, payeeBefore] = [await f.token.balanceOf(f.payer), await f.token.balanceOf(f.payees[0])];
    // The payee relays the old authorization (re-funding from the payer's balance) and then the old receipt.
    await expect(f.escrow.connect(f.payees[0]).fundWithAuthorization(toStruct(p), auth.validAfter, auth.validBefore, sig.signature))
      .to.be.revertedWithCustomError(f.escrow, "EscrowAlreadyFunded")
      .withArgs(id);
    await expect(f.escrow.connect(f.payees[0]).confirmWithReceipt(toStruct(p), receipt))
      .to.be.revertedWithCustomError(f.escrow, "EscrowWrongStatus")
      .withArgs(id, Status.Settled);
    expect([await f.token.balanceOf(f.payer), await f.token.balanceOf(f.payees[0])]).to.deep.equal([payerBefore, payeeBefore]);
  });

  describe("void (operator)", function () {
    async function voidFixture() {
      const f = await escrowFixture();
      const p = await f.terms({ operator: f.operator.address, arbiter: f.arbiter.address });
      await f.fundWithAuthorization(p);
      return { ...f, p, deadline: p.confirmBy + p.disputeWindow };
    }

    it("refunds everything held and keeps a Settled record (nothing was released)", async function () {
      const f = await loadFixture(voidFixture);
      const tx = f.escrow.connect(f.operator).void(toStruct(f.p));
      await expect(tx).to.emit(f.escrow, "PaymentRefunded").withArgs(f.idOf(f.p), f.operator.address, AMOUNT);
      await expect(tx).to.changeTokenBalances(f.token, [f.payer, f.escrowAddress], [AMOUNT, -AMOUNT]);
      expect(await stateOf(f, f.p)).to.deep.equal({ status: Status.Settled, held: 0n, refundable: 0n });
      await expect(f.escrow.connect(f.operator).void(toStruct(f.p)))
        .to.be.revertedWithCustomError(f.escrow, "EscrowWrongStatus")
        .withArgs(f.idOf(f.p), Status.Settled);
      // The terms can never be funded again (by a replayed signature or otherwise).
      await expect(f.fundWithAuthorization(f.p)).to.be.revertedWithCustomError(f.escrow, "EscrowAlreadyFunded").withArgs(f.idOf(f.p));
    });

    it("after a partial capture, refunds the rest and keeps what was released refundable", async function () {
      const f = await loadFixture(voidFixture);
      await f.escrow.connect(f.operator).capture(toStruct(f.p), 25n * USD, 0);
      await f.escrow.connect(f.operator).void(toStruct(f.p));
      expect(await stateOf(f, f.p)).to.deep.equal({ status: Status.Settled, held: 0n, refundable: 25n * USD });
      expect(await f.token.balanceOf(f.payer)).to.equal(INITIAL_BALANCE - 25n * USD);
    });

    it("only the operator may void, only until confirmBy + disputeWindow, and not during a dispute", async function () {
      const f = await loadFixture(voidFixture);
      await expect(f.escrow.connect(f.payer).void(toStruct(f.p)))
        .to.be.revertedWithCustomError(f.escrow, "EscrowUnauthorized")
        .withArgs(f.payer.address, f.operator.address);
      await thenRevert(async () => {
        await atTimestamp(f.deadline);
        await expect(f.escrow.connect(f.operator).void(toStruct(f.p))).to.emit(f.escrow, "PaymentRefunded");
      });
      await thenRevert(async () => {
        await atTimestamp(f.deadline + 1n);
        await expect(f.escrow.connect(f.operator).void(toStruct(f.p)))
          .to.be.revertedWithCustomError(f.escrow, "EscrowDeadlinePassed")
          .withArgs(f.deadline, f.deadline + 1n);
      });
      await f.escrow.connect(f.payees[0]).dispute(toStruct(f.p));
      await expect(f.escrow.connect(f.operator).void(toStruct(f.p)))
        .to.be.revertedWithCustomError(f.escrow, "EscrowWrongStatus")
        .withArgs(f.idOf(f.p), Status.Disputed);
    });
  });

  describe("reclaim (the default outcome refunds the payer when nobody acts)", function () {
    async function reclaimFixture() {
      const f = await escrowFixture();
      const p = await f.terms({ arbiter: f.arbiter.address });
      await f.fundWithAuthorization(p);
      return { ...f, p, deadline: p.confirmBy + p.disputeWindow };
    }

    it("after confirmBy + disputeWindow: t-1 and t are too early, t+1 refunds the payer in full", async function () {
      const f = await loadFixture(reclaimFixture);
      for (const t of [f.deadline - 1n, f.deadline]) {
        await thenRevert(async () => {
          await atTimestamp(t);
          await expect(f.escrow.connect(f.payer).reclaim(toStruct(f.p)))
            .to.be.revertedWithCustomError(f.escrow, "EscrowDeadlineNotReached")
            .withArgs(f.deadline, t);
        });
      }
      await atTimestamp(f.deadline + 1n);
      const tx = f.escrow.connect(f.payer).reclaim(toStruct(f.p));
      await expect(tx).to.emit(f.escrow, "PaymentRefunded").withArgs(f.idOf(f.p), f.payer.address, AMOUNT);
      await expect(tx).to.changeTokenBalances(f.token, [f.payer, f.escrowAddress], [AMOUNT, -AMOUNT]);
    });

    it("anyone may trigger it; the money still goes to the payer only", async function () {
      const f = await loadFixture(reclaimFixture);
      await atTimestamp(f.deadline + 1n);
      await expect(f.escrow.connect(f.other).reclaim(toStruct(f.p))).to.changeTokenBalances(f.token, [f.payer, f.other], [AMOUNT, 0n]);
    });

    it("is refused when the default outcome is Release", async function () {
      const f = await loadFixture(escrowFixture);
      const p = await f.terms({ defaultOutcome: Outcome.Release });
      await f.fundWithAuthorization(p);
      await atTimestamp(p.confirmBy + p.disputeWindow + 1n);
      await expect(f.escrow.reclaim(toStruct(p)))
        .to.be.revertedWithCustomError(f.escrow, "EscrowWrongOutcome")
        .withArgs(Outcome.Release);
    });

    it("after an unruled dispute, the payer still gets 100% once refundBy has passed", async function () {
      const f = await loadFixture(reclaimFixture);
      await f.escrow.connect(f.payees[0]).dispute(toStruct(f.p));
      await atTimestamp(f.deadline + 1n);
      await expect(f.escrow.reclaim(toStruct(f.p)))
        .to.be.revertedWithCustomError(f.escrow, "EscrowDeadlineNotReached")
        .withArgs(f.p.refundBy, f.deadline + 1n);
      await atTimestamp(f.p.refundBy + 1n);
      await expect(f.escrow.reclaim(toStruct(f.p))).to.changeTokenBalances(f.token, [f.payer], [AMOUNT]);
    });
  });

  describe("refund (released money back to the payer, paid by the operator or a payee)", function () {
    async function refundFixture() {
      const f = await escrowFixture();
      const p = await f.terms({ operator: f.operator.address });
      await f.fundWithAuthorization(p);
      await f.escrow.connect(f.verifier).confirm(toStruct(p));
      await f.token.connect(f.payees[0]).approve(f.escrowAddress, ethers.MaxUint256);
      await f.token.connect(f.minter).mint(f.operator, 50n * USD);
      await f.token.connect(f.operator).approve(f.escrowAddress, ethers.MaxUint256);
      return { ...f, p };
    }

    it("a payee refunds part of what it received; the payer gets exactly that", async function () {
      const f = await loadFixture(refundFixture);
      const tx = f.escrow.connect(f.payees[0]).refund(toStruct(f.p), 30n * USD);
      await expect(tx)
        .to.emit(f.escrow, "PaymentRefunded")
        .withArgs(f.idOf(f.p), f.payees[0].address, 30n * USD);
      await expect(tx).to.changeTokenBalances(f.token, [f.payees[0], f.payer, f.escrowAddress], [-30n * USD, 30n * USD, 0n]);
      expect(await stateOf(f, f.p)).to.deep.equal({ status: Status.Settled, held: 0n, refundable: AMOUNT - 30n * USD });
    });

    it("the operator refunds from its own funds", async function () {
      const f = await loadFixture(refundFixture);
      await expect(f.escrow.connect(f.operator).refund(toStruct(f.p), 50n * USD)).to.changeTokenBalances(
        f.token,
        [f.operator, f.payer],
        [-50n * USD, 50n * USD],
      );
    });

    it("never refunds more than was released", async function () {
      const f = await loadFixture(refundFixture);
      await f.escrow.connect(f.payees[0]).refund(toStruct(f.p), AMOUNT - 1n);
      await expect(f.escrow.connect(f.payees[0]).refund(toStruct(f.p), 2n))
        .to.be.revertedWithCustomError(f.escrow, "EscrowAmountExceedsRefundable")
        .withArgs(2n, 1n);
      await expect(f.escrow.connect(f.payees[0]).refund(toStruct(f.p), 0n)).to.be.revertedWithCustomError(f.escrow, "EscrowZeroAmount");
    });

    it("only the operator or a payee may refund", async function () {
      const f = await loadFixture(refundFixture);
      for (const caller of [f.payer, f.verifier, f.other]) {
        await expect(f.escrow.connect(caller).refund(toStruct(f.p), 1n))
          .to.be.revertedWithCustomError(f.escrow, "EscrowNotARefunder")
          .withArgs(caller.address);
      }
    });

    it("is open until refundBy: t succeeds, t+1 is refused", async function () {
      const f = await loadFixture(refundFixture);
      await thenRevert(async () => {
        await atTimestamp(f.p.refundBy);
        await expect(f.escrow.connect(f.payees[0]).refund(toStruct(f.p), 1n)).to.emit(f.escrow, "PaymentRefunded");
      });
      await atTimestamp(f.p.refundBy + 1n);
      await expect(f.escrow.connect(f.payees[0]).refund(toStruct(f.p), 1n))
        .to.be.revertedWithCustomError(f.escrow, "EscrowDeadlinePassed")
        .withArgs(f.p.refundBy, f.p.refundBy + 1n);
    });

    it("refuses terms that were never funded", async function () {
      const f = await loadFixture(refundFixture);
      const q = await f.terms({ operator: f.operator.address });
      await expect(f.escrow.connect(f.operator).refund(toStruct(q), 1n))
        .to.be.revertedWithCustomError(f.escrow, "EscrowNotFunded")
        .withArgs(f.idOf(q));
    });
  });
});
