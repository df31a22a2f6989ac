import { expect } from "chai";
import { ethers } from "hardhat";
import { loadFixture } from "@nomicfoundation/hardhat-network-helpers";
import { AMOUNT, Status, USD, escrowFixture, stateOf, toStruct } from "./fixture";
import { atTimestamp } from "../helpers/time";

describe("ConditionalEscrow: undeliverable payouts are credited, never blocking (withdraw)", function () {
  async function threePayees() {
    const f = await escrowFixture();
    const p = await f.terms({
      arbiter: f.arbiter.address,
      payees: [
        { account: f.payees[0].address, shareBps: 5_000 },
        { account: f.payees[1].address, shareBps: 3_000 },
        { account: f.payees[2].address, shareBps: 2_000 },
      ],
    });
    await f.fundWithAuthorization(p);
    return { ...f, p };
  }

  it("a payee blocklisted after funding: its share is credited, the others are paid", async function () {
    const f = await loadFixture(threePayees);
    const id = f.idOf(f.p);
    await f.token.connect(f.blocklister).blocklist(f.payees[1]);
    const tx = f.escrow.connect(f.verifier).confirm(toStruct(f.p));
    await expect(tx)
      .to.emit(f.escrow, "PayoutCredited")
      .withArgs(id, await f.token.getAddress(), f.payees[1].address, 30n * USD);
    await expect(tx).to.changeTokenBalances(f.token, [f.payees[0], f.payees[1], f.payees[2], f.escrowAddress], [50n * USD, 0n, 20n * USD, -70n * USD]);
    expect(await f.escrow.claimable(f.token, f.payees[1])).to.equal(30n * USD);
    expect(await f.token.balanceOf(f.escrowAddress)).to.equal(30n * USD);
    // Still blocklisted: it cannot withdraw, and nothing changes.
    await expect(f.escrow.connect(f.payees[1]).withdraw(f.token)).to.be.revertedWithCustomError(f.token, "NetDollarBlocklisted").withArgs(f.payees[1].address);
    expect(await f.escrow.claimable(f.token, f.payees[1])).to.equal(30n * USD);
    // Unblocked: it withdraws, to itself only.
    await f.token.connect(f.blocklister).unblocklist(f.payees[1]);
    await expect(f.escrow.connect(f.payees[1]).withdraw(f.token))
      .to.emit(f.escrow, "Withdrawn")
      .withArgs(await f.token.getAddress(), f.payees[1].address, 30n * USD);
    expect(await f.token.balanceOf(f.payees[1])).to.equal(30n * USD);
    await expect(f.escrow.connect(f.payees[1]).withdraw(f.token))
      .to.be.revertedWithCustomError(f.escrow, "EscrowNothingToWithdraw")
      .withArgs(await f.token.getAddress(), f.payees[1].address);
  });

  it("a payee blocklisted after funding does not stop the payer's reclaim", async function () {
    const f = await loadFixture(threePayees);
    await f.token.connect(f.blocklister).blocklist(f.payees[0]);
    await atTimestamp(f.p.confirmBy + f.p.disputeWindow + 1n);
    await expect(f.escrow.connect(f.payer).reclaim(toStruct(f.p))).to.changeTokenBalances(f.token, [f.payer, f.escrowAddress], [AMOUNT, -AMOUNT]);
  });

  it("a blocklisted payer's refund is credited, not lost, and not blocking", async function () {
    const f = await loadFixture(threePayees);
    await f.token.connect(f.blocklister).blocklist(f.payer);
    await f.escrow.connect(f.payees[2]).dispute(toStruct(f.p));
    await expect(f.escrow.connect(f.arbiter).rule(toStruct(f.p), 5_000)).to.changeTokenBalances(
      f.token,
      [f.payees[0], f.payees[1], f.payees[2]],
      [25n * USD, 15n * USD, 10n * USD],
    );
    expect(await f.escrow.claimable(f.token, f.payer)).to.equal(50n * USD);
  });

  it("while the token is paused, every payout is credited and the payment still settles", async function () {
    const f = await loadFixture(threePayees);
    await f.token.connect(f.pauser).pause();
    await f.escrow.connect(f.verifier).confirm(toStruct(f.p));
    expect(await stateOf(f, f.p)).to.deep.equal({ status: Status.Settled, held: 0n, refundable: AMOUNT });
    expect(await f.escrow.claimable(f.token, f.payees[0])).to.equal(50n * USD);
    expect(await f.escrow.claimable(f.token, f.payees[1])).to.equal(30n * USD);
    expect(await f.escrow.claimable(f.token, f.payees[2])).to.equal(20n * USD);
    await expect(f.escrow.connect(f.payees[0]).withdraw(f.token)).to.be.revertedWithCustomError(f.token, "NetDollarPaused");
    await f.token.connect(f.pauser).unpause();
    for (const payee of f.payees.slice(0, 3)) await f.escrow.connect(payee).withdraw(f.token);
    expect(await f.token.balanceOf(f.escrowAddress)).to.equal(0n);
  });

  it("a receiver that reverts (a token with receiver hooks) is credited; the other payees are paid", async function () {
    const f = await loadFixture(escrowFixture);
    const token = await (await ethers.getContractFactory("MockCallbackToken")).deploy();
    const receiver = await (await ethers.getContractFactory("MockMaliciousReceiver")).deploy();
    await token.mint(f.payer, 1_000n * USD);
    await token.setHooked(await receiver.getAddress(), true);
    await receiver.configure(1, ethers.ZeroAddress, "0x"); // revert on receipt
    const p = await f.terms({
      token: await token.getAddress(),
      payees: [
        { account: await receiver.getAddress(), shareBps: 6_000 },
        { account: f.payees[0].address, shareBps: 4_000 },
      ],
    });
    await token.connect(f.payer).approve(f.escrowAddress, AMOUNT);
    await f.escrow.connect(f.payer).fund(toStruct(p));
    await expect(f.escrow.connect(f.verifier).confirm(toStruct(p)))
      .to.emit(f.escrow, "PayoutCredited")
      .withArgs(f.idOf(p), await token.getAddress(), await receiver.getAddress(), 60n * USD);
    expect(await token.balanceOf(f.payees[0])).to.equal(40n * USD);
    // The receiver accepts again and withdraws (acting as itself).
    await receiver.configure(0, ethers.ZeroAddress, "0x");
    await receiver.call(f.escrowAddress, f.escrow.interface.encodeFunctionData("withdraw", [await token.getAddress()]));
    expect(await token.balanceOf(await receiver.getAddress())).to.equal(60n * USD);
  });
});
