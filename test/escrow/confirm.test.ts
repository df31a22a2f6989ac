import { expect } from "chai";
import { ethers } from "hardhat";
import { loadFixture } from "@nomicfoundation/hardhat-network-helpers";
import { AMOUNT, Status, escrowFixture, stateOf, toStruct } from "./fixture";
import { atTimestamp, thenRevert } from "../helpers/time";
import { strangerKey } from "../helpers/signatures";
import { escrowDomain, RECEIPT_TYPES } from "../../src/escrow/payment";

describe("ConditionalEscrow: confirm and confirmWithReceipt (the verifier releases)", function () {
  it("confirm releases everything held to the payee and emits PaymentReleased", async function () {
    const f = await loadFixture(escrowFixture);
    const p = await f.terms();
    await f.fundWithAuthorization(p);
    const tx = f.escrow.connect(f.verifier).confirm(toStruct(p));
    await expect(tx).to.emit(f.escrow, "PaymentReleased").withArgs(f.idOf(p), f.verifier.address, AMOUNT, 0n);
    await expect(tx).to.changeTokenBalances(f.token, [f.escrowAddress, f.payees[0]], [-AMOUNT, AMOUNT]);
    expect(await stateOf(f, p)).to.deep.equal({ status: Status.Settled, held: 0n, refundable: AMOUNT });
  });

  it("splits exactly by shares, rounding dust to the first payee, with the minimum fee", async function () {
    const f = await loadFixture(escrowFixture);
    const amount = 1_000_003n; // not divisible by the shares
    const p = await f.terms({
      amount,
      payees: [
        { account: f.payees[0].address, shareBps: 3_334 },
        { account: f.payees[1].address, shareBps: 3_333 },
        { account: f.payees[2].address, shareBps: 3_333 },
      ],
      minFeeBps: 125,
      maxFeeBps: 300,
      feeReceiver: f.feeReceiver.address,
    });
    await f.fundWithAuthorization(p);
    const fee = (amount * 125n) / 10_000n; // 12_500
    const net = amount - fee;
    const second = (net * 3_333n) / 10_000n;
    const first = net - 2n * second;
    const tx = f.escrow.connect(f.verifier).confirm(toStruct(p));
    await expect(tx).to.emit(f.escrow, "PaymentReleased").withArgs(f.idOf(p), f.verifier.address, amount, fee);
    await expect(tx).to.changeTokenBalances(
      f.token,
      [f.feeReceiver, f.payees[0], f.payees[1], f.payees[2], f.escrowAddress],
      [fee, first, second, second, -amount],
    );
    expect(fee + first + 2n * second).to.equal(amount);
  });

  it("only the verifier may confirm", async function () {
    const f = await loadFixture(escrowFixture);
    const p = await f.terms();
    await f.fundWithAuthorization(p);
    for (const caller of [f.payer, f.payees[0], f.operator, f.other]) {
      await expect(f.escrow.connect(caller).confirm(toStruct(p)))
        .to.be.revertedWithCustomError(f.escrow, "EscrowUnauthorized")
        .withArgs(caller.address, f.verifier.address);
    }
    const noVerifier = await f.terms({ verifier: ethers.ZeroAddress });
    await f.fundWithAuthorization(noVerifier);
    await expect(f.escrow.connect(f.other).confirm(toStruct(noVerifier)))
      .to.be.revertedWithCustomError(f.escrow, "EscrowUnauthorized")
      .withArgs(f.other.address, ethers.ZeroAddress);
  });

  it("accepts confirmation until confirmBy: t-1 and t succeed, t+1 is refused", async function () {
    const f = await loadFixture(escrowFixture);
    const p = await f.terms();
    await f.fundWithAuthorization(p);
    for (const t of [p.confirmBy - 1n, p.confirmBy]) {
      await thenRevert(async () => {
        await atTimestamp(t);
        await expect(f.escrow.connect(f.verifier).confirm(toStruct(p))).to.emit(f.escrow, "PaymentReleased");
      });
    }
    await atTimestamp(p.confirmBy + 1n);
    await expect(f.escrow.connect(f.verifier).confirm(toStruct(p)))
      .to.be.revertedWithCustomError(f.escrow, "EscrowDeadlinePassed")
      .withArgs(p.confirmBy, p.confirmBy + 1n);
  });

  it("refuses a payment that is not funded, already settled, or disputed", async function () {
    const f = await loadFixture(escrowFixture);
    const p = await f.terms({ arbiter: f.arbiter.address });
    await expect(f.escrow.connect(f.verifier).confirm(toStruct(p)))
      .to.be.revertedWithCustomError(f.escrow, "EscrowNotFunded")
      .withArgs(f.idOf(p));
    await f.fundWithAuthorization(p);
    await thenRevert(async () => {
      await f.escrow.connect(f.verifier).confirm(toStruct(p));
      await expect(f.escrow.connect(f.verifier).confirm(toStruct(p)))
        .to.be.revertedWithCustomError(f.escrow, "EscrowWrongStatus")
        .withArgs(f.idOf(p), Status.Settled);
    });
    await f.escrow.connect(f.payer).dispute(toStruct(p));
    await expect(f.escrow.connect(f.verifier).confirm(toStruct(p)))
      .to.be.revertedWithCustomError(f.escrow, "EscrowWrongStatus")
      .withArgs(f.idOf(p), Status.Disputed);
  });

  it("refuses terms that differ from the funded ones (another id)", async function () {
    const f = await loadFixture(escrowFixture);
    const p = await f.terms();
    await f.fundWithAuthorization(p);
    const changed = { ...p, payees: [{ account: f.verifier.address, shareBps: 10_000 }] };
    await expect(f.escrow.connect(f.verifier).confirm(toStruct(changed)))
      .to.be.revertedWithCustomError(f.escrow, "EscrowNotFunded")
      .withArgs(f.idOf(changed));
  });

  describe("confirmWithReceipt", function () {
    it("anyone relays the verifier's signed receipt", async function () {
      const f = await loadFixture(escrowFixture);
      const p = await f.terms();
      await f.fundWithAuthorization(p);
      const receipt = await f.receipt(p);
      await expect(f.escrow.connect(f.other).confirmWithReceipt(toStruct(p), receipt))
        .to.emit(f.escrow, "PaymentReleased")
        .withArgs(f.idOf(p), f.other.address, AMOUNT, 0n);
      expect(await f.token.balanceOf(f.payees[0])).to.equal(AMOUNT);
    });

    it("refuses a receipt by another key, for another payment, another escrow or another chain", async function () {
      const f = await loadFixture(escrowFixture);
      const p = await f.terms();
      const q = await f.terms();
      await f.fundWithAuthorization(p);
      const wrong = [
        await f.receipt(p, f.payer),
        await strangerKey().signTypedData(escrowDomain(f.escrowAddress, f.chainId), RECEIPT_TYPES, { paymentId: f.idOf(p) }),
        await f.receipt(q),
        await f.verifier.signTypedData(escrowDomain(ethers.Wallet.createRandom().address, f.chainId), RECEIPT_TYPES, { paymentId: f.idOf(p) }),
        await f.verifier.signTypedData(escrowDomain(f.escrowAddress, f.chainId + 1n), RECEIPT_TYPES, { paymentId: f.idOf(p) }),
        "0x1234",
      ];
      for (const receipt of wrong) {
        await expect(f.escrow.confirmWithReceipt(toStruct(p), receipt))
          .to.be.revertedWithCustomError(f.escrow, "EscrowInvalidReceipt")
          .withArgs(f.verifier.address);
      }
    });

    it("a receipt cannot be replayed once the payment is settled", async function () {
      const f = await loadFixture(escrowFixture);
      const p = await f.terms();
      await f.fundWithAuthorization(p);
      const receipt = await f.receipt(p);
      await f.escrow.confirmWithReceipt(toStruct(p), receipt);
      await expect(f.escrow.confirmWithReceipt(toStruct(p), receipt))
        .to.be.revertedWithCustomError(f.escrow, "EscrowWrongStatus")
        .withArgs(f.idOf(p), Status.Settled);
    });

    it("accepts a receipt from a smart-contract verifier (ERC-1271) and refuses one it rejects", async function () {
      const f = await loadFixture(escrowFixture);
      const wallet = await (await ethers.getContractFactory("MockERC1271Wallet")).deploy(f.verifier);
      const p = await f.terms({ verifier: await wallet.getAddress() });
      await f.fundWithAuthorization(p);
      const receipt = await f.receipt(p); // signed by the wallet's owner
      await thenRevert(async () => {
        await wallet.setMode(1);
        await expect(f.escrow.confirmWithReceipt(toStruct(p), receipt))
          .to.be.revertedWithCustomError(f.escrow, "EscrowInvalidReceipt")
          .withArgs(await wallet.getAddress());
      });
      await expect(f.escrow.confirmWithReceipt(toStruct(p), receipt)).to.emit(f.escrow, "PaymentReleased");
    });

    it("refuses any receipt when the payment names no verifier", async function () {
      const f = await loadFixture(escrowFixture);
      const p = await f.terms({ verifier: ethers.ZeroAddress });
      await f.fundWithAuthorization(p);
      await expect(f.escrow.confirmWithReceipt(toStruct(p), "0x"))
        .to.be.revertedWithCustomError(f.escrow, "EscrowInvalidReceipt")
        .withArgs(ethers.ZeroAddress);
    });

    it("is accepted until confirmBy and refused after", async function () {
      const f = await loadFixture(escrowFixture);
      const p = await f.terms();
      await f.fundWithAuthorization(p);
      const receipt = await f.receipt(p);
      await thenRevert(async () => {
        await atTimestamp(p.confirmBy);
        await expect(f.escrow.confirmWithReceipt(toStruct(p), receipt)).to.emit(f.escrow, "PaymentReleased");
      });
      await atTimestamp(p.confirmBy + 1n);
      await expect(f.escrow.confirmWithReceipt(toStruct(p), receipt))
        .to.be.revertedWithCustomError(f.escrow, "EscrowDeadlinePassed")
        .withArgs(p.confirmBy, p.confirmBy + 1n);
    });
  });
});
