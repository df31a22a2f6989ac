import { expect } from "chai";
import { ethers } from "hardhat";
import { loadFixture } from "@nomicfoundation/hardhat-network-helpers";
import { Signature } from "ethers";
import { DEPOSIT, USD, channelsFixture } from "./fixture";
import { atTimestamp, now } from "../helpers/time";
import { highS, strangerKey } from "../helpers/signatures";
import {
  MAX_WITHDRAW_DELAY,
  MIN_WITHDRAW_DELAY,
  channelId,
  claimBatchDigest,
  refundDigest,
  signClaimBatch,
  signVoucher,
  toVoucherClaimArgs,
  voucherDigest,
} from "../../src/x402/batch/channel";

const ZERO = ethers.ZeroAddress;

describe("BatchSettlement", function () {
  describe("deposit", function () {
    it("creates the channel on the first deposit: the payer's tokens move into the contract, events say so", async function () {
      const f = await loadFixture(channelsFixture);
      const c = f.config();
      const id = f.idOf(c);
      const before = await f.token.balanceOf(f.alice.address);
      await expect(f.deposit(c))
        .to.emit(f.channels, "ChannelCreated")
        .withArgs(id, Object.values(c))
        .and.to.emit(f.channels, "Deposited")
        .withArgs(id, f.relayer.address, DEPOSIT, DEPOSIT);
      expect(await f.token.balanceOf(f.alice.address)).to.equal(before - DEPOSIT);
      expect(await f.token.balanceOf(f.channelsAddress)).to.equal(DEPOSIT);
      expect(await f.token.balanceOf(f.collectorAddress)).to.equal(0n);
      expect(await f.state(c)).to.deep.include({ balance: DEPOSIT, totalClaimed: 0n });
    });

    it("tops up without a second ChannelCreated", async function () {
      const f = await loadFixture(channelsFixture);
      const c = f.config();
      await f.deposit(c);
      await expect(f.deposit(c, 3n * USD))
        .to.emit(f.channels, "Deposited")
        .withArgs(f.idOf(c), f.relayer.address, 3n * USD, DEPOSIT + 3n * USD)
        .and.not.to.emit(f.channels, "ChannelCreated");
    });

    it("refuses a zero field, a zero amount, a zero collector and a withdraw delay out of range (at each bound)", async function () {
      const f = await loadFixture(channelsFixture);
      for (const field of ["payer", "receiver", "receiverAuthorizer", "token"] as const) {
        const [c, amount, collector, data] = await f.depositArgs(f.config(), DEPOSIT);
        await expect(f.channels.deposit({ ...c, [field]: ZERO }, amount, collector, data))
          .to.be.revertedWithCustomError(f.channels, "BatchSettlementZeroAddress")
          .withArgs(field);
      }
      const [c, , collector, data] = await f.depositArgs(f.config(), DEPOSIT);
      await expect(f.channels.deposit(c, 0n, collector, data)).to.be.revertedWithCustomError(f.channels, "BatchSettlementZeroAmount");
      await expect(f.channels.deposit(c, DEPOSIT, ZERO, data))
        .to.be.revertedWithCustomError(f.channels, "BatchSettlementZeroAddress")
        .withArgs("collector");
      for (const delay of [MIN_WITHDRAW_DELAY - 1, MAX_WITHDRAW_DELAY + 1]) {
        await expect(f.deposit(f.config({ withdrawDelay: delay })))
          .to.be.revertedWithCustomError(f.channels, "BatchSettlementWithdrawDelayOutOfRange")
          .withArgs(delay, MIN_WITHDRAW_DELAY, MAX_WITHDRAW_DELAY);
      }
      for (const delay of [MIN_WITHDRAW_DELAY, MAX_WITHDRAW_DELAY]) await expect(f.deposit(f.config({ withdrawDelay: delay }))).not.to.be.reverted;
    });

    it("refuses an expired authorization (valid strictly before validBefore: t-1 passes, t and t+1 fail) and one not yet valid", async function () {
      const f = await loadFixture(channelsFixture);
      const t = (await now()) + 100n;
      for (const [at, ok] of [
        [t - 1n, true],
        [t, false],
        [t + 1n, false],
      ] as const) {
        const id: string = await ethers.provider.send("evm_snapshot", []);
        const args = await f.depositArgs(f.config(), DEPOSIT, { validBefore: t });
        await atTimestamp(at);
        if (ok) await expect(f.channels.deposit(...args)).not.to.be.reverted;
        else
          await expect(f.channels.deposit(...args))
            .to.be.revertedWithCustomError(f.token, "NetDollarAuthorizationExpired")
            .withArgs(t, at);
        await ethers.provider.send("evm_revert", [id]);
      }
      const later = (await now()) + 1_000n;
      const args = await f.depositArgs(f.config(), DEPOSIT, { validAfter: later, validBefore: later + 100n });
      await expect(f.channels.deposit(...args)).to.be.revertedWithCustomError(f.token, "NetDollarAuthorizationNotYetValid");
      expect(await f.token.balanceOf(f.channelsAddress)).to.equal(0n);
    });

    it("refuses a replayed authorization, one signed by someone else, and one bound to another channel", async function () {
      const f = await loadFixture(channelsFixture);
      const c = f.config();
      const args = await f.depositArgs(c, DEPOSIT);
      await f.channels.deposit(...args);
      await expect(f.channels.deposit(...args)).to.be.revertedWithCustomError(f.token, "NetDollarAuthorizationAlreadyUsed");
      const forged = await f.depositArgs(f.config(), DEPOSIT, { signer: f.bob });
      await expect(f.channels.deposit(...forged))
        .to.be.revertedWithCustomError(f.token, "NetDollarInvalidSignature")
        .withArgs(f.alice.address);
      // The same signature and salt presented for another channel of the same payer: the nonce no longer matches.
      const [, amount, collector, data] = await f.depositArgs(c, DEPOSIT);
      await expect(f.channels.deposit(f.config(), amount, collector, data)).to.be.revertedWithCustomError(f.token, "NetDollarInvalidSignature");
      expect(await f.state(c)).to.deep.include({ balance: DEPOSIT });
    });

    it("fails with nothing written when the token is paused or the payer blocklisted", async function () {
      const f = await loadFixture(channelsFixture);
      const c = f.config();
      const args = await f.depositArgs(c, DEPOSIT);
      await f.token.connect(f.pauser).pause();
      await expect(f.channels.deposit(...args)).to.be.revertedWithCustomError(f.token, "NetDollarPaused");
      await f.token.connect(f.pauser).unpause();
      await f.token.connect(f.blocklister).blocklist(f.alice.address);
      await expect(f.channels.deposit(...args))
        .to.be.revertedWithCustomError(f.token, "NetDollarBlocklisted")
        .withArgs(f.alice.address);
      expect(await f.state(c)).to.deep.include({ balance: 0n });
      expect(await f.token.balanceOf(f.channelsAddress)).to.equal(0n);
    });

    it("refuses a deposit the collector did not deliver in full, and a balance past 2^128 - 1", async function () {
      const f = await loadFixture(channelsFixture);
      const mock = await (await ethers.getContractFactory("MockDepositCollector")).deploy();
      const erc20 = await (await ethers.getContractFactory("MockERC20")).deploy();
      await erc20.mint(await mock.getAddress(), 2n ** 130n);
      const c = f.config({ token: await erc20.getAddress() });
      await mock.setShortfall(1n);
      await expect(f.channels.deposit(c, 100n, mock, "0x"))
        .to.be.revertedWithCustomError(f.channels, "BatchSettlementDepositNotReceived")
        .withArgs(100n, 99n);
      await mock.setShortfall(100n);
      await expect(f.channels.deposit(c, 100n, mock, "0x"))
        .to.be.revertedWithCustomError(f.channels, "BatchSettlementDepositNotReceived")
        .withArgs(100n, 0n);
      await mock.setShortfall(0n);
      const max = 2n ** 128n - 1n;
      await f.channels.deposit(c, max, mock, "0x");
      await expect(f.channels.deposit(c, 1n, mock, "0x"))
        .to.be.revertedWithCustomError(f.channels, "BatchSettlementDepositOverflow")
        .withArgs(max, 1n);
    });

    it("the collector serves only its channel contract", async function () {
      const f = await loadFixture(channelsFixture);
      await expect(f.collector.collect(f.alice.address, f.tokenAddress, 1n, ethers.ZeroHash, "0x"))
        .to.be.revertedWithCustomError(f.collector, "DepositCollectorUnauthorizedCaller")
        .withArgs(f.admin.address);
      await expect((await ethers.getContractFactory("ERC3009DepositCollector")).deploy(ZERO)).to.be.revertedWithCustomError(
        f.collector,
        "DepositCollectorZeroBatchSettlement",
      );
      expect(await f.collector.BATCH_SETTLEMENT()).to.equal(f.channelsAddress);
    });
  });

  describe("claim and claimWithSignature", function () {
    async function funded() {
      const f = await loadFixture(channelsFixture);
      const c = f.config();
      await f.deposit(c);
      return { f, c, id: f.idOf(c) };
    }

    it("claims a voucher signed by the payer authorizer, relayed by anyone with the receiver authorizer's batch signature", async function () {
      const { f, c, id } = await funded();
      const row = await f.row(c, 3n * USD, 2n * USD);
      await expect(f.claimSigned([row]))
        .to.emit(f.channels, "Claimed")
        .withArgs(id, f.relayer.address, 2n * USD, 2n * USD);
      expect(await f.state(c)).to.deep.include({ balance: DEPOSIT, totalClaimed: 2n * USD });
      expect(await f.channels.receivers(f.receiver.address, f.tokenAddress)).to.deep.equal([2n * USD, 0n]);
      // Raised again under the same voucher, up to its ceiling: only the difference is claimed.
      await expect(f.claimSigned([{ ...row, totalClaimed: 3n * USD }]))
        .to.emit(f.channels, "Claimed")
        .withArgs(id, f.relayer.address, USD, 3n * USD);
    });

    it("a replayed or superseded row changes nothing and emits nothing", async function () {
      const { f, c } = await funded();
      const row = await f.row(c, 2n * USD);
      await f.claimSigned([row]);
      await expect(f.claimSigned([row])).not.to.emit(f.channels, "Claimed");
      await expect(f.claimSigned([{ ...(await f.row(c, USD)) }])).not.to.emit(f.channels, "Claimed");
      expect(await f.state(c)).to.deep.include({ totalClaimed: 2n * USD });
      expect(await f.channels.receivers(f.receiver.address, f.tokenAddress)).to.deep.equal([2n * USD, 0n]);
    });

    it("refuses a claim above the voucher's ceiling or the channel's balance", async function () {
      const { f, c, id } = await funded();
      await expect(f.claimSigned([await f.row(c, USD, USD + 1n)]))
        .to.be.revertedWithCustomError(f.channels, "BatchSettlementClaimExceedsCeiling")
        .withArgs(id, USD + 1n, USD);
      await expect(f.claimSigned([await f.row(c, DEPOSIT + 1n)]))
        .to.be.revertedWithCustomError(f.channels, "BatchSettlementClaimExceedsBalance")
        .withArgs(id, DEPOSIT + 1n, DEPOSIT);
    });

    it("refuses a voucher signed by someone else, a malleable (high-s) signature, and one for another channel", async function () {
      const { f, c, id } = await funded();
      await expect(f.claimSigned([await f.row(c, USD, USD, f.bob)]))
        .to.be.revertedWithCustomError(f.channels, "BatchSettlementInvalidVoucherSignature")
        .withArgs(id, f.alice.address);
      const good = await f.row(c, USD);
      const s = Signature.from(good.signature);
      const malleable = highS({ signature: good.signature, v: s.v, r: s.r, s: s.s });
      await expect(f.claimSigned([{ ...good, signature: malleable.signature }])).to.be.revertedWithCustomError(
        f.channels,
        "BatchSettlementInvalidVoucherSignature",
      );
      const other = f.config();
      await f.deposit(other);
      const otherVoucher = await signVoucher(f.alice, f.contract, f.idOf(other), USD);
      await expect(f.claimSigned([{ ...good, signature: otherVoucher.signature }])).to.be.revertedWithCustomError(
        f.channels,
        "BatchSettlementInvalidVoucherSignature",
      );
    });

    it("refuses vouchers signed for another contract or another chain", async function () {
      const { f, c } = await funded();
      for (const contract of [
        { ...f.contract, address: f.collectorAddress },
        { ...f.contract, chainId: 1n },
      ]) {
        const v = await signVoucher(f.alice, contract, f.idOf(c), USD);
        await expect(f.claimSigned([{ channel: c, maxClaimableAmount: USD, signature: v.signature, totalClaimed: USD }])).to.be.revertedWithCustomError(
          f.channels,
          "BatchSettlementInvalidVoucherSignature",
        );
      }
    });

    it("a zero payer authorizer means the payer's own signature: ERC-1271 wallets that accept, reject or revert", async function () {
      const f = await loadFixture(channelsFixture);
      const wallet = await (await ethers.getContractFactory("MockERC1271Wallet")).deploy(f.alice.address);
      const walletAddress = await wallet.getAddress();
      const erc20 = await (await ethers.getContractFactory("MockERC20")).deploy();
      const mock = await (await ethers.getContractFactory("MockDepositCollector")).deploy();
      await erc20.mint(await mock.getAddress(), DEPOSIT);
      const c = f.config({ payer: walletAddress, payerAuthorizer: ZERO, token: await erc20.getAddress() });
      const id = f.idOf(c);
      await f.channels.deposit(c, DEPOSIT, mock, "0x");
      const v = await signVoucher(f.alice, f.contract, id, USD);
      const row = { channel: c, maxClaimableAmount: USD, signature: v.signature, totalClaimed: USD };
      await wallet.setMode(1); // reject
      await expect(f.claimSigned([row]))
        .to.be.revertedWithCustomError(f.channels, "BatchSettlementInvalidVoucherSignature")
        .withArgs(id, walletAddress);
      await wallet.setMode(2); // revert
      await expect(f.claimSigned([row]))
        .to.be.revertedWithCustomError(f.channels, "BatchSettlementInvalidVoucherSignature")
        .withArgs(id, walletAddress);
      await wallet.setMode(0); // verify its owner's signature
      await expect(f.claimSigned([row]))
        .to.emit(f.channels, "Claimed")
        .withArgs(id, f.relayer.address, USD, USD);
      // An EOA payer with a zero authorizer signs for itself.
      const eoa = f.config({ payerAuthorizer: ZERO });
      await f.deposit(eoa);
      await expect(f.claimSigned([await f.row(eoa, USD, USD, f.alice)])).to.emit(f.channels, "Claimed");
    });

    it("claim: only the receiver or the receiver authorizer of every row", async function () {
      const { f, c, id } = await funded();
      const row = toVoucherClaimArgs(await f.row(c, USD));
      await expect(f.channels.connect(f.bob).claim([row]))
        .to.be.revertedWithCustomError(f.channels, "BatchSettlementNotReceiverSide")
        .withArgs(id, f.bob.address);
      await expect(f.channels.connect(f.receiver).claim([row]))
        .to.emit(f.channels, "Claimed")
        .withArgs(id, f.receiver.address, USD, USD);
      const row2 = toVoucherClaimArgs(await f.row(c, 2n * USD));
      await expect(f.channels.connect(f.authorizer).claim([row2]))
        .to.emit(f.channels, "Claimed")
        .withArgs(id, f.authorizer.address, USD, 2n * USD);
      await expect(f.channels.connect(f.receiver).claim([])).to.be.revertedWithCustomError(f.channels, "BatchSettlementEmptyBatch");
    });

    it("claimWithSignature: refuses an empty batch, rows of another authorizer, and a signature not the authorizer's", async function () {
      const { f, c } = await funded();
      await expect(f.channels.claimWithSignature([], "0x")).to.be.revertedWithCustomError(f.channels, "BatchSettlementEmptyBatch");
      const foreign = f.config({ receiverAuthorizer: f.bob.address });
      const rows = [await f.row(c, USD), await f.row(foreign, USD)];
      await expect(f.claimSigned(rows))
        .to.be.revertedWithCustomError(f.channels, "BatchSettlementAuthorizerMismatch")
        .withArgs(1n, f.authorizer.address, f.bob.address);
      await expect(f.claimSigned([rows[0]], f.relayer, f.bob))
        .to.be.revertedWithCustomError(f.channels, "BatchSettlementInvalidAuthorizerSignature")
        .withArgs(f.authorizer.address);
      // A batch signature covers the exact rows: changing a total after signing breaks it.
      const sig = await signClaimBatch(f.authorizer, f.contract, [rows[0]]);
      await expect(f.channels.claimWithSignature([toVoucherClaimArgs({ ...rows[0], totalClaimed: USD - 1n })], sig)).to.be.revertedWithCustomError(
        f.channels,
        "BatchSettlementInvalidAuthorizerSignature",
      );
    });

    it("one batch claims many channels of several receivers; each receiver's total is the sum of its rows", async function () {
      const f = await loadFixture(channelsFixture);
      const other = f.other;
      const configs = [
        f.config(),
        f.config({ receiver: other.address }),
        f.config(),
        f.config({ receiver: other.address }),
        f.config({ payer: f.bob.address, payerAuthorizer: f.bob.address }),
      ];
      for (const c of configs) await f.deposit(c);
      // The same receiver paid in another token, between two rows in NET Dollar.
      const mock = await (await ethers.getContractFactory("MockDepositCollector")).deploy();
      const erc20 = await (await ethers.getContractFactory("MockERC20")).deploy();
      await erc20.mint(await mock.getAddress(), DEPOSIT);
      const inOther = f.config({ token: await erc20.getAddress() });
      await f.channels.deposit(inOther, DEPOSIT, mock, "0x");
      configs.splice(1, 0, inOther);
      const rows = await Promise.all(configs.map((c, i) => f.row(c, BigInt(i + 1) * USD)));
      await f.claimSigned(rows);
      expect(await f.channels.receivers(f.receiver.address, await erc20.getAddress())).to.deep.equal([2n * USD, 0n]);
      expect(await f.channels.receivers(f.receiver.address, f.tokenAddress)).to.deep.equal([(1n + 4n + 6n) * USD, 0n]);
      expect(await f.channels.receivers(other.address, f.tokenAddress)).to.deep.equal([(3n + 5n) * USD, 0n]);
    });
  });

  describe("settle", function () {
    it("pays the receiver what it claimed and not yet settled, once", async function () {
      const f = await loadFixture(channelsFixture);
      const c = f.config();
      await f.deposit(c);
      await f.claimSigned([await f.row(c, 4n * USD)]);
      const before = await f.token.balanceOf(f.receiver.address);
      await expect(f.channels.connect(f.bob).settle(f.receiver.address, f.tokenAddress))
        .to.emit(f.channels, "Settled")
        .withArgs(f.receiver.address, f.tokenAddress, f.bob.address, 4n * USD);
      expect(await f.token.balanceOf(f.receiver.address)).to.equal(before + 4n * USD);
      expect(await f.channels.receivers(f.receiver.address, f.tokenAddress)).to.deep.equal([4n * USD, 4n * USD]);
      await expect(f.channels.settle(f.receiver.address, f.tokenAddress)).not.to.emit(f.channels, "Settled");
      expect(await f.token.balanceOf(f.receiver.address)).to.equal(before + 4n * USD);
      expect(await f.token.balanceOf(f.channelsAddress)).to.equal(DEPOSIT - 4n * USD);
    });

    it("to a blocklisted receiver reverts and keeps what it is owed", async function () {
      const f = await loadFixture(channelsFixture);
      const c = f.config();
      await f.deposit(c);
      await f.claimSigned([await f.row(c, USD)]);
      await f.token.connect(f.blocklister).blocklist(f.receiver.address);
      await expect(f.channels.settle(f.receiver.address, f.tokenAddress))
        .to.be.revertedWithCustomError(f.token, "NetDollarBlocklisted")
        .withArgs(f.receiver.address);
      expect(await f.channels.receivers(f.receiver.address, f.tokenAddress)).to.deep.equal([USD, 0n]);
    });
  });

  describe("refund and refundWithSignature", function () {
    async function funded() {
      const f = await loadFixture(channelsFixture);
      const c = f.config();
      await f.deposit(c);
      await f.claimSigned([await f.row(c, 2n * USD)]);
      return { f, c, id: f.idOf(c) };
    }

    it("refund: the receiver side returns unclaimed escrow (capped at it) and advances the nonce", async function () {
      const { f, c, id } = await funded();
      await expect(f.channels.connect(f.bob).refund(c, USD))
        .to.be.revertedWithCustomError(f.channels, "BatchSettlementNotReceiverSide")
        .withArgs(id, f.bob.address);
      await expect(f.channels.connect(f.receiver).refund(c, 0n)).to.be.revertedWithCustomError(f.channels, "BatchSettlementZeroAmount");
      const before = await f.token.balanceOf(f.alice.address);
      await expect(f.channels.connect(f.receiver).refund(c, USD)).to.emit(f.channels, "Refunded").withArgs(id, f.receiver.address, USD);
      expect(await f.token.balanceOf(f.alice.address)).to.equal(before + USD);
      // Asking for more than is unclaimed returns what is unclaimed (7 USD); the claimed 2 USD stay.
      await expect(f.channels.connect(f.authorizer).refund(c, 100n * USD))
        .to.emit(f.channels, "Refunded")
        .withArgs(id, f.authorizer.address, 7n * USD)
        .and.not.to.emit(f.channels, "ChannelClosed");
      expect(await f.state(c)).to.deep.include({ balance: 2n * USD, totalClaimed: 2n * USD, refundNonce: 2n });
      // Nothing left: no transfer, no event, but the nonce still advances.
      await expect(f.channels.connect(f.receiver).refund(c, USD)).not.to.emit(f.channels, "Refunded");
      expect((await f.state(c)).refundNonce).to.equal(3n);
    });

    it("a full refund of a channel never claimed closes it, and a later deposit creates it again", async function () {
      const f = await loadFixture(channelsFixture);
      const c = f.config();
      const id = f.idOf(c);
      await f.deposit(c);
      await expect(f.channels.connect(f.receiver).refund(c, DEPOSIT)).to.emit(f.channels, "ChannelClosed").withArgs(id, Object.values(c));
      await expect(f.deposit(c)).to.emit(f.channels, "ChannelCreated");
    });

    it("refundWithSignature: the authorizer's signature for the current nonce, relayed by anyone, once", async function () {
      const { f, c, id } = await funded();
      await expect(f.channels.refundWithSignature(c, 0n, 0n, "0x")).to.be.revertedWithCustomError(f.channels, "BatchSettlementZeroAmount");
      const sig = await f.refundSignature(c, 0n, USD);
      await expect(f.channels.refundWithSignature(c, USD, 1n, sig))
        .to.be.revertedWithCustomError(f.channels, "BatchSettlementInvalidRefundNonce")
        .withArgs(id, 1n, 0n);
      await expect(f.channels.refundWithSignature(c, 2n * USD, 0n, sig))
        .to.be.revertedWithCustomError(f.channels, "BatchSettlementInvalidAuthorizerSignature")
        .withArgs(f.authorizer.address);
      await expect(f.channels.refundWithSignature(c, USD, 0n, await f.refundSignature(c, 0n, USD, f.bob))).to.be.revertedWithCustomError(
        f.channels,
        "BatchSettlementInvalidAuthorizerSignature",
      );
      await expect(f.channels.connect(f.bob).refundWithSignature(c, USD, 0n, sig))
        .to.emit(f.channels, "Refunded")
        .withArgs(id, f.bob.address, USD);
      await expect(f.channels.refundWithSignature(c, USD, 0n, sig))
        .to.be.revertedWithCustomError(f.channels, "BatchSettlementInvalidRefundNonce")
        .withArgs(id, 0n, 1n);
    });

    it("a direct refund invalidates a signed one for the same nonce (nonce ordering)", async function () {
      const { f, c, id } = await funded();
      const sig = await f.refundSignature(c, 0n, USD);
      await f.channels.connect(f.receiver).refund(c, USD);
      await expect(f.channels.refundWithSignature(c, USD, 0n, sig))
        .to.be.revertedWithCustomError(f.channels, "BatchSettlementInvalidRefundNonce")
        .withArgs(id, 0n, 1n);
      await expect(f.channels.refundWithSignature(c, USD, 1n, await f.refundSignature(c, 1n, USD))).to.emit(f.channels, "Refunded");
    });

    it("shrinks a pending withdrawal by what it refunds, and cancels it when it covers it", async function () {
      const { f, c } = await funded();
      await f.channels.connect(f.alice).initiateWithdraw(c, 5n * USD);
      await f.channels.connect(f.receiver).refund(c, 2n * USD);
      expect(await f.state(c)).to.deep.include({ withdrawal: 3n * USD });
      await f.channels.connect(f.receiver).refund(c, 3n * USD);
      expect(await f.state(c)).to.deep.include({ withdrawal: 0n, initiatedAt: 0n });
    });
  });

  describe("initiateWithdraw and finalizeWithdraw", function () {
    async function withdrawing() {
      const f = await loadFixture(channelsFixture);
      const c = f.config({ payerAuthorizer: f.voucherKey.address });
      await f.deposit(c);
      return { f, c, id: f.idOf(c) };
    }

    it("initiate: by the payer or the payer authorizer, non-zero, within the unclaimed escrow, one at a time", async function () {
      const { f, c, id } = await withdrawing();
      await expect(f.channels.connect(f.bob).initiateWithdraw(c, USD))
        .to.be.revertedWithCustomError(f.channels, "BatchSettlementNotPayerSide")
        .withArgs(id, f.bob.address);
      await expect(f.channels.connect(f.alice).initiateWithdraw(c, 0n)).to.be.revertedWithCustomError(f.channels, "BatchSettlementZeroAmount");
      await f.claimSigned([await f.row(c, 4n * USD)]);
      await expect(f.channels.connect(f.alice).initiateWithdraw(c, 6n * USD + 1n))
        .to.be.revertedWithCustomError(f.channels, "BatchSettlementWithdrawExceedsAvailable")
        .withArgs(id, 6n * USD + 1n, 6n * USD);
      const tx = await f.channels.connect(f.voucherKey).initiateWithdraw(c, 6n * USD);
      const at = BigInt((await ethers.provider.getBlock((await tx.wait())!.blockNumber))!.timestamp);
      await expect(tx)
        .to.emit(f.channels, "WithdrawInitiated")
        .withArgs(id, 6n * USD, at + BigInt(MIN_WITHDRAW_DELAY));
      expect(await f.state(c)).to.deep.include({ withdrawal: 6n * USD, initiatedAt: at });
      await expect(f.channels.connect(f.alice).initiateWithdraw(c, USD))
        .to.be.revertedWithCustomError(f.channels, "BatchSettlementWithdrawalPending")
        .withArgs(id, at);
    });

    it("finalize: not before initiatedAt + delay (t-1 fails, t and t+1 pay), by the payer side, paying the payer", async function () {
      const { f, c, id } = await withdrawing();
      await expect(f.channels.connect(f.alice).finalizeWithdraw(c))
        .to.be.revertedWithCustomError(f.channels, "BatchSettlementNoWithdrawalPending")
        .withArgs(id);
      await f.channels.connect(f.alice).initiateWithdraw(c, 4n * USD);
      const t = (await now()) + BigInt(MIN_WITHDRAW_DELAY);
      await expect(f.channels.connect(f.bob).finalizeWithdraw(c))
        .to.be.revertedWithCustomError(f.channels, "BatchSettlementNotPayerSide")
        .withArgs(id, f.bob.address);
      for (const [at, ok] of [
        [t - 1n, false],
        [t, true],
        [t + 1n, true],
      ] as const) {
        const snap: string = await ethers.provider.send("evm_snapshot", []);
        await atTimestamp(at);
        if (!ok) {
          await expect(f.channels.connect(f.alice).finalizeWithdraw(c))
            .to.be.revertedWithCustomError(f.channels, "BatchSettlementWithdrawDelayNotElapsed")
            .withArgs(id, t);
        } else {
          const before = await f.token.balanceOf(f.alice.address);
          await expect(f.channels.connect(f.voucherKey).finalizeWithdraw(c))
            .to.emit(f.channels, "WithdrawFinalized")
            .withArgs(id, f.voucherKey.address, 4n * USD);
          expect(await f.token.balanceOf(f.alice.address)).to.equal(before + 4n * USD);
          expect(await f.state(c)).to.deep.include({ balance: DEPOSIT - 4n * USD, withdrawal: 0n, initiatedAt: 0n });
        }
        await ethers.provider.send("evm_revert", [snap]);
      }
    });

    it("the withdrawal race: a claim landing before finalize wins; after finalize it fails cleanly", async function () {
      const { f, c, id } = await withdrawing();
      await f.channels.connect(f.alice).initiateWithdraw(c, DEPOSIT);
      const row = await f.row(c, 3n * USD);
      const snap: string = await ethers.provider.send("evm_snapshot", []);
      // Claim first: the payer gets only what is unclaimed.
      await f.claimSigned([row]);
      await atTimestamp((await now()) + BigInt(MIN_WITHDRAW_DELAY));
      await expect(f.channels.connect(f.alice).finalizeWithdraw(c))
        .to.emit(f.channels, "WithdrawFinalized")
        .withArgs(id, f.alice.address, 7n * USD);
      expect(await f.state(c)).to.deep.include({ balance: 3n * USD, totalClaimed: 3n * USD });
      await ethers.provider.send("evm_revert", [snap]);
      // Finalize first: the whole deposit leaves, the channel closes, and the late claim finds no balance.
      await atTimestamp((await now()) + BigInt(MIN_WITHDRAW_DELAY));
      await expect(f.channels.connect(f.alice).finalizeWithdraw(c)).to.emit(f.channels, "ChannelClosed");
      await expect(f.claimSigned([row]))
        .to.be.revertedWithCustomError(f.channels, "BatchSettlementClaimExceedsBalance")
        .withArgs(id, 3n * USD, 0n);
    });

    it("a withdrawal of what was claimed meanwhile pays nothing and moves no tokens", async function () {
      const { f, c, id } = await withdrawing();
      await f.channels.connect(f.alice).initiateWithdraw(c, DEPOSIT);
      await f.claimSigned([await f.row(c, DEPOSIT)]);
      await atTimestamp((await now()) + BigInt(MIN_WITHDRAW_DELAY));
      const before = await f.token.balanceOf(f.channelsAddress);
      await expect(f.channels.connect(f.alice).finalizeWithdraw(c)).to.emit(f.channels, "WithdrawFinalized").withArgs(id, f.alice.address, 0n);
      expect(await f.token.balanceOf(f.channelsAddress)).to.equal(before);
    });
  });

  describe("views, domain and multicall", function () {
    it("ids and digests match the library (and so the reference SDK's typed data)", async function () {
      const f = await loadFixture(channelsFixture);
      const c = f.config();
      const id = f.idOf(c);
      expect(await f.channels.getChannelId(c)).to.equal(id);
      expect(await f.channels.getVoucherDigest(id, 123n)).to.equal(voucherDigest(f.contract, id, 123n));
      expect(await f.channels.getRefundDigest(id, 4n, 5n)).to.equal(refundDigest(f.contract, id, 4n, 5n));
      const rows = [await f.row(c, 7n, 6n), await f.row(f.config(), 9n, 9n)];
      expect(await f.channels.getClaimBatchDigest(f.args(rows))).to.equal(claimBatchDigest(f.contract, rows));
      expect(await f.channels.CHANNEL_CONFIG_TYPEHASH()).to.equal(
        ethers.id(
          "ChannelConfig(address payer,address payerAuthorizer,address receiver,address receiverAuthorizer,address token,uint40 withdrawDelay,bytes32 salt)",
        ),
      );
      expect(await f.channels.MIN_WITHDRAW_DELAY()).to.equal(MIN_WITHDRAW_DELAY);
      expect(await f.channels.MAX_WITHDRAW_DELAY()).to.equal(MAX_WITHDRAW_DELAY);
      const [, name, version, chainId, verifyingContract] = await f.channels.eip712Domain();
      expect({ name, version, chainId, verifyingContract }).to.deep.equal({
        name: "x402 Batch Settlement",
        version: "1",
        chainId: f.chainId,
        verifyingContract: f.channelsAddress,
      });
    });

    it("code built for another home address still signs for the address it runs at", async function () {
      const f = await loadFixture(channelsFixture);
      const elsewhere = await (await ethers.getContractFactory("BatchSettlement")).deploy(strangerKey().address);
      const address = await elsewhere.getAddress();
      const c = f.config();
      expect(await elsewhere.getChannelId(c)).to.equal(channelId({ address, chainId: f.chainId }, c));
    });

    it("multicall runs several calls in one transaction", async function () {
      const f = await loadFixture(channelsFixture);
      const c = f.config();
      await f.deposit(c);
      const i = f.channels.interface;
      const r1 = toVoucherClaimArgs(await f.row(c, USD));
      await f.channels
        .connect(f.receiver)
        .multicall([i.encodeFunctionData("claim", [[r1]]), i.encodeFunctionData("settle", [f.receiver.address, f.tokenAddress])]);
      expect(await f.channels.receivers(f.receiver.address, f.tokenAddress)).to.deep.equal([USD, USD]);
    });
  });

  describe("reentrancy through a malicious token or collector", function () {
    it("a token calling back during deposit, settle, refund and finalize meets the guard", async function () {
      const f = await loadFixture(channelsFixture);
      const evil = await (await ethers.getContractFactory("MockCallbackToken")).deploy();
      const evilAddress = await evil.getAddress();
      await evil.mint(f.alice.address, 100n * USD);
      const c = f.config({ token: evilAddress });
      const i = f.channels.interface;
      const guard = i.getError("ReentrancyGuardReentrantCall")!.selector;
      const attack = async (data: string, run: () => Promise<unknown>) => {
        await evil.setCallback(f.channelsAddress, data);
        await run();
        expect(await evil.callbackAttempted()).to.equal(true);
        expect(await evil.callbackSucceeded()).to.equal(false);
        expect(await evil.callbackError()).to.equal(guard);
      };
      const settleData = i.encodeFunctionData("settle", [f.receiver.address, evilAddress]);
      const refundData = i.encodeFunctionData("refund", [c, 1n]);
      // Every state-changing entry point, tried from inside a deposit's token transfer.
      const row = toVoucherClaimArgs(await f.row(c, USD));
      const entries = [
        settleData,
        refundData,
        i.encodeFunctionData("deposit", [c, 1n, f.collectorAddress, "0x"]),
        i.encodeFunctionData("claim", [[row]]),
        i.encodeFunctionData("claimWithSignature", [[row], "0x"]),
        i.encodeFunctionData("refundWithSignature", [c, 1n, 0n, "0x"]),
        i.encodeFunctionData("initiateWithdraw", [c, 1n]),
        i.encodeFunctionData("finalizeWithdraw", [c]),
      ];
      for (const data of entries) {
        const other = f.config({ token: evilAddress });
        await attack(data, async () => f.channels.deposit(other, USD, f.collectorAddress, (await f.depositArgs(other, USD))[3]));
      }
      await attack(settleData, async () => f.channels.deposit(c, DEPOSIT, f.collectorAddress, (await f.depositArgs(c, DEPOSIT))[3]));
      expect(await f.state(c)).to.deep.include({ balance: DEPOSIT });
      await f.claimSigned([await f.row(c, USD)]);
      await attack(refundData, () => f.channels.settle(f.receiver.address, evilAddress));
      expect(await evil.balanceOf(f.receiver.address)).to.equal(USD);
      await attack(settleData, () => f.channels.connect(f.receiver).refund(c, USD));
      await f.channels.connect(f.alice).initiateWithdraw(c, USD);
      await atTimestamp((await now()) + BigInt(MIN_WITHDRAW_DELAY));
      await attack(refundData, () => f.channels.connect(f.alice).finalizeWithdraw(c));
      expect(await evil.balanceOf(f.channelsAddress)).to.equal(DEPOSIT - 3n * USD + 8n * USD);
      expect(await f.state(c)).to.deep.include({ balance: DEPOSIT - 2n * USD, totalClaimed: USD });
    });

    it("a collector calling back into deposit meets the guard", async function () {
      const f = await loadFixture(channelsFixture);
      const mock = await (await ethers.getContractFactory("MockDepositCollector")).deploy();
      const erc20 = await (await ethers.getContractFactory("MockERC20")).deploy();
      await erc20.mint(await mock.getAddress(), 2n * DEPOSIT);
      const c = f.config({ token: await erc20.getAddress() });
      await mock.setCallback(f.channelsAddress, f.channels.interface.encodeFunctionData("deposit", [c, DEPOSIT, await mock.getAddress(), "0x"]));
      await f.channels.deposit(c, DEPOSIT, mock, "0x");
      expect(await mock.callbackError()).to.equal(f.channels.interface.getError("ReentrancyGuardReentrantCall")!.selector);
      expect(await f.state(c)).to.deep.include({ balance: DEPOSIT });
    });
  });
});
