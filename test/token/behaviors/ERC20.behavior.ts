import { expect } from "chai";
import { loadFixture } from "@nomicfoundation/hardhat-network-helpers";
import { ethers } from "hardhat";
import type { TokenFixture } from "../../helpers/fixtures";
import { INITIAL_BALANCE, USD } from "../../helpers/fixtures";

/**
 * ERC-20 behaviour shared by every deployment of the token (fresh behind its proxy, and after an upgrade).
 * The fixture must give alice and bob INITIAL_BALANCE each and carol nothing.
 */
export function shouldBehaveLikeERC20(fixture: () => Promise<TokenFixture>): void {
  describe("ERC-20", function () {
    it("has the metadata of NET Dollar", async function () {
      const { token } = await loadFixture(fixture);
      expect(await token.name()).to.equal("NET Dollar");
      expect(await token.symbol()).to.equal("NETD");
      expect(await token.decimals()).to.equal(6n);
    });

    it("reports balances and a supply equal to their sum", async function () {
      const { token, alice, bob, carol } = await loadFixture(fixture);
      expect(await token.balanceOf(alice)).to.equal(INITIAL_BALANCE);
      expect(await token.balanceOf(bob)).to.equal(INITIAL_BALANCE);
      expect(await token.balanceOf(carol)).to.equal(0n);
      expect(await token.totalSupply()).to.equal(2n * INITIAL_BALANCE);
    });

    describe("transfer", function () {
      it("moves the amount, emits Transfer and returns true", async function () {
        const { token, alice, carol } = await loadFixture(fixture);
        expect(await token.connect(alice).transfer.staticCall(carol, 5n * USD)).to.equal(true);
        await expect(token.connect(alice).transfer(carol, 5n * USD))
          .to.emit(token, "Transfer")
          .withArgs(alice.address, carol.address, 5n * USD);
        expect(await token.balanceOf(alice)).to.equal(INITIAL_BALANCE - 5n * USD);
        expect(await token.balanceOf(carol)).to.equal(5n * USD);
        expect(await token.totalSupply()).to.equal(2n * INITIAL_BALANCE);
      });

      it("moves the whole balance", async function () {
        const { token, alice, bob } = await loadFixture(fixture);
        await expect(token.connect(alice).transfer(bob, INITIAL_BALANCE)).to.changeTokenBalances(token, [alice, bob], [-INITIAL_BALANCE, INITIAL_BALANCE]);
        expect(await token.balanceOf(alice)).to.equal(0n);
      });

      it("refuses one base unit more than the balance, naming the figures", async function () {
        const { token, alice, bob } = await loadFixture(fixture);
        await expect(token.connect(alice).transfer(bob, INITIAL_BALANCE + 1n))
          .to.be.revertedWithCustomError(token, "ERC20InsufficientBalance")
          .withArgs(alice.address, INITIAL_BALANCE, INITIAL_BALANCE + 1n);
      });

      it("refuses any amount from an empty account", async function () {
        const { token, carol, bob } = await loadFixture(fixture);
        await expect(token.connect(carol).transfer(bob, 1n)).to.be.revertedWithCustomError(token, "ERC20InsufficientBalance").withArgs(carol.address, 0n, 1n);
      });

      it("refuses the zero address as receiver", async function () {
        const { token, alice } = await loadFixture(fixture);
        await expect(token.connect(alice).transfer(ethers.ZeroAddress, 1n))
          .to.be.revertedWithCustomError(token, "ERC20InvalidReceiver")
          .withArgs(ethers.ZeroAddress);
      });

      it("allows a transfer to oneself, leaving the balance unchanged", async function () {
        const { token, alice } = await loadFixture(fixture);
        await expect(token.connect(alice).transfer(alice, 7n)).to.emit(token, "Transfer").withArgs(alice.address, alice.address, 7n);
        expect(await token.balanceOf(alice)).to.equal(INITIAL_BALANCE);
      });

      it("allows a transfer of zero", async function () {
        const { token, carol, bob } = await loadFixture(fixture);
        await expect(token.connect(carol).transfer(bob, 0n)).to.emit(token, "Transfer").withArgs(carol.address, bob.address, 0n);
      });
    });

    describe("approve and allowance", function () {
      it("sets the allowance, emits Approval and returns true", async function () {
        const { token, alice, bob } = await loadFixture(fixture);
        expect(await token.connect(alice).approve.staticCall(bob, 1n)).to.equal(true);
        await expect(token.connect(alice).approve(bob, 10n * USD))
          .to.emit(token, "Approval")
          .withArgs(alice.address, bob.address, 10n * USD);
        expect(await token.allowance(alice, bob)).to.equal(10n * USD);
      });

      it("replaces an earlier allowance", async function () {
        const { token, alice, bob } = await loadFixture(fixture);
        await token.connect(alice).approve(bob, 10n);
        await token.connect(alice).approve(bob, 3n);
        expect(await token.allowance(alice, bob)).to.equal(3n);
      });

      it("refuses the zero address as spender", async function () {
        const { token, alice } = await loadFixture(fixture);
        await expect(token.connect(alice).approve(ethers.ZeroAddress, 1n))
          .to.be.revertedWithCustomError(token, "ERC20InvalidSpender")
          .withArgs(ethers.ZeroAddress);
      });
    });

    describe("transferFrom", function () {
      it("moves the amount, spends the allowance and emits Transfer", async function () {
        const { token, alice, bob, carol } = await loadFixture(fixture);
        await token.connect(alice).approve(bob, 10n * USD);
        expect(await token.connect(bob).transferFrom.staticCall(alice, carol, 4n * USD)).to.equal(true);
        await expect(token.connect(bob).transferFrom(alice, carol, 4n * USD))
          .to.emit(token, "Transfer")
          .withArgs(alice.address, carol.address, 4n * USD);
        expect(await token.balanceOf(alice)).to.equal(INITIAL_BALANCE - 4n * USD);
        expect(await token.balanceOf(carol)).to.equal(4n * USD);
        expect(await token.allowance(alice, bob)).to.equal(6n * USD);
      });

      it("does not spend an unlimited allowance", async function () {
        const { token, alice, bob, carol } = await loadFixture(fixture);
        await token.connect(alice).approve(bob, ethers.MaxUint256);
        await token.connect(bob).transferFrom(alice, carol, 4n * USD);
        expect(await token.allowance(alice, bob)).to.equal(ethers.MaxUint256);
      });

      it("refuses one base unit more than the allowance, naming the figures", async function () {
        const { token, alice, bob, carol } = await loadFixture(fixture);
        await token.connect(alice).approve(bob, 10n);
        await expect(token.connect(bob).transferFrom(alice, carol, 11n))
          .to.be.revertedWithCustomError(token, "ERC20InsufficientAllowance")
          .withArgs(bob.address, 10n, 11n);
      });

      it("refuses more than the owner's balance even within the allowance", async function () {
        const { token, alice, bob, carol } = await loadFixture(fixture);
        await token.connect(alice).approve(bob, ethers.MaxUint256);
        await expect(token.connect(bob).transferFrom(alice, carol, INITIAL_BALANCE + 1n))
          .to.be.revertedWithCustomError(token, "ERC20InsufficientBalance")
          .withArgs(alice.address, INITIAL_BALANCE, INITIAL_BALANCE + 1n);
        expect(await token.allowance(alice, bob)).to.equal(ethers.MaxUint256);
      });

      it("refuses the zero address as receiver", async function () {
        const { token, alice, bob } = await loadFixture(fixture);
        await token.connect(alice).approve(bob, 10n);
        await expect(token.connect(bob).transferFrom(alice, ethers.ZeroAddress, 1n))
          .to.be.revertedWithCustomError(token, "ERC20InvalidReceiver")
          .withArgs(ethers.ZeroAddress);
      });

      it("refuses to spend from the zero address", async function () {
        const { token, bob, carol } = await loadFixture(fixture);
        await expect(token.connect(bob).transferFrom(ethers.ZeroAddress, carol, 1n))
          .to.be.revertedWithCustomError(token, "ERC20InsufficientAllowance")
          .withArgs(bob.address, 0n, 1n);
      });
    });
  });
}
