import { expect } from "chai";
import { ethers } from "hardhat";
import { loadFixture } from "@nomicfoundation/hardhat-network-helpers";
import { AMOUNT, Status, USD, escrowFixture, stateOf, toStruct } from "./fixture";
import { atTimestamp, thenRevert } from "../helpers/time";

describe("ConditionalEscrow: dispute and rule (the arbiter decides)", function () {
  async function disputeFixture() {
    const f = await escrowFixture();
    const p = await f.terms({
      arbiter: f.arbiter.address,
      payees: [
        { account: f.payees[0].address, shareBps: 7_000 },
        { account: f.payees[1].address, shareBps: 3_000 },
      ],
      minFeeBps: 100,
      maxFeeBps: 100,
      feeReceiver: f.feeReceiver.address,
    });
    await f.fundWithAuthorization(p);
    return { ...f, p, deadline: p.confirmBy + p.disputeWindow };
  }

  describe("dispute", function () {
    it("the payer or any payee may dispute; it freezes the payment", async function () {
      const f = await loadFixture(disputeFixture);
      for (const party of [f.payer, f.payees[0], f.payees[1]]) {
        await thenRevert(async () => {
          await expect(f.escrow.connect(party).dispute(toStruct(f.p)))
            .to.emit(f.escrow, "PaymentDisputed")
            .withArgs(f.idOf(f.p), party.address);
          expect(await stateOf(f, f.p)).to.deep.equal({ status: Status.Disputed, held: AMOUNT, refundable: 0n });
        });
      }
    });

    it("nobody else may dispute", async function () {
      const f = await loadFixture(disputeFixture);
      for (const caller of [f.verifier, f.arbiter, f.feeReceiver, f.other]) {
        await expect(f.escrow.connect(caller).dispute(toStruct(f.p)))
          .to.be.revertedWithCustomError(f.escrow, "EscrowNotAParty")
          .withArgs(caller.address);
      }
    });

    it("is open until confirmBy + disputeWindow: t succeeds, t+1 is refused", async function () {
      const f = await loadFixture(disputeFixture);
      await thenRevert(async () => {
        await atTimestamp(f.deadline);
        await expect(f.escrow.connect(f.payer).dispute(toStruct(f.p))).to.emit(f.escrow, "PaymentDisputed");
      });
      await atTimestamp(f.deadline + 1n);
      await expect(f.escrow.connect(f.payer).dispute(toStruct(f.p)))
        .to.be.revertedWithCustomError(f.escrow, "EscrowDeadlinePassed")
        .withArgs(f.deadline, f.deadline + 1n);
    });

    it("is impossible without an arbiter, twice, or once settled", async function () {
      const f = await loadFixture(disputeFixture);
      const noArbiter = await f.terms();
      await f.fundWithAuthorization(noArbiter);
      await expect(f.escrow.connect(f.payer).dispute(toStruct(noArbiter)))
        .to.be.revertedWithCustomError(f.escrow, "EscrowNoArbiter")
        .withArgs(f.idOf(noArbiter));
      await f.escrow.connect(f.payer).dispute(toStruct(f.p));
      await expect(f.escrow.connect(f.payer).dispute(toStruct(f.p)))
        .to.be.revertedWithCustomError(f.escrow, "EscrowWrongStatus")
        .withArgs(f.idOf(f.p), Status.Disputed);
      await f.escrow.connect(f.verifier).confirm(toStruct(noArbiter));
    });
  });

  describe("rule", function () {
    async function disputedFixture() {
      const f = await disputeFixture();
      await f.escrow.connect(f.payer).dispute(toStruct(f.p));
      return f;
    }

    it("splits what is held: the payer's share back, the rest released by shares with the minimum fee", async function () {
      const f = await loadFixture(disputedFixture);
      const toPayer = (AMOUNT * 4_000n) / 10_000n;
      const released = AMOUNT - toPayer;
      const fee = released / 100n;
      const net = released - fee;
      const second = (net * 3_000n) / 10_000n;
      const tx = f.escrow.connect(f.arbiter).rule(toStruct(f.p), 4_000);
      await expect(tx).to.emit(f.escrow, "PaymentRuled").withArgs(f.idOf(f.p), f.arbiter.address, 4_000);
      await expect(tx).to.emit(f.escrow, "PaymentRefunded").withArgs(f.idOf(f.p), f.arbiter.address, toPayer);
      await expect(tx).to.emit(f.escrow, "PaymentReleased").withArgs(f.idOf(f.p), f.arbiter.address, released, fee);
      await expect(tx).to.changeTokenBalances(
        f.token,
        [f.payer, f.payees[0], f.payees[1], f.feeReceiver, f.escrowAddress],
        [toPayer, net - second, second, fee, -AMOUNT],
      );
      expect(await stateOf(f, f.p)).to.deep.equal({ status: Status.Settled, held: 0n, refundable: released });
    });

    it("100% to the payer refunds everything (and keeps a Settled record); 0% releases everything", async function () {
      const f = await loadFixture(disputedFixture);
      await thenRevert(async () => {
        await expect(f.escrow.connect(f.arbiter).rule(toStruct(f.p), 10_000)).to.changeTokenBalances(f.token, [f.payer], [AMOUNT]);
        expect(await stateOf(f, f.p)).to.deep.equal({ status: Status.Settled, held: 0n, refundable: 0n });
      });
      await expect(f.escrow.connect(f.arbiter).rule(toStruct(f.p), 0)).to.changeTokenBalances(f.token, [f.payer, f.escrowAddress], [0n, -AMOUNT]);
    });

    it("only the arbiter rules, only on a disputed payment, with a share of at most 100%", async function () {
      const f = await loadFixture(disputedFixture);
      await expect(f.escrow.connect(f.payer).rule(toStruct(f.p), 5_000))
        .to.be.revertedWithCustomError(f.escrow, "EscrowUnauthorized")
        .withArgs(f.payer.address, f.arbiter.address);
      await expect(f.escrow.connect(f.arbiter).rule(toStruct(f.p), 10_001))
        .to.be.revertedWithCustomError(f.escrow, "EscrowInvalidRuling")
        .withArgs(10_001);
      const q = await f.terms({ arbiter: f.arbiter.address });
      await f.fundWithAuthorization(q);
      await expect(f.escrow.connect(f.arbiter).rule(toStruct(q), 5_000))
        .to.be.revertedWithCustomError(f.escrow, "EscrowWrongStatus")
        .withArgs(f.idOf(q), Status.Funded);
    });

    it("is possible until refundBy: t succeeds, t+1 is refused and the default outcome applies", async function () {
      const f = await loadFixture(disputedFixture);
      await thenRevert(async () => {
        await atTimestamp(f.p.refundBy);
        await expect(f.escrow.connect(f.arbiter).rule(toStruct(f.p), 5_000)).to.emit(f.escrow, "PaymentRuled");
      });
      await atTimestamp(f.p.refundBy + 1n);
      await expect(f.escrow.connect(f.arbiter).rule(toStruct(f.p), 5_000))
        .to.be.revertedWithCustomError(f.escrow, "EscrowDeadlinePassed")
        .withArgs(f.p.refundBy, f.p.refundBy + 1n);
      await expect(f.escrow.reclaim(toStruct(f.p))).to.changeTokenBalances(f.token, [f.payer], [AMOUNT]);
    });
  });

  it("an arbiter that is a contract rules like anyone else (no signature needed)", async function () {
    const f = await loadFixture(escrowFixture);
    const arbiterWallet = await (await ethers.getContractFactory("MockERC1271Wallet")).deploy(f.arbiter);
    const p = await f.terms({ arbiter: await arbiterWallet.getAddress() });
    await f.fundWithAuthorization(p);
    await f.escrow.connect(f.payer).dispute(toStruct(p));
    const data = f.escrow.interface.encodeFunctionData("rule", [toStruct(p), 2_500]);
    await expect(arbiterWallet.connect(f.arbiter).execute(f.escrowAddress, data)).to.changeTokenBalances(
      f.token,
      [f.payer, f.payees[0]],
      [25n * USD, 75n * USD],
    );
  });
});
