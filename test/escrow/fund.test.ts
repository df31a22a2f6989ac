import { expect } from "chai";
import { ethers } from "hardhat";
import { loadFixture } from "@nomicfoundation/hardhat-network-helpers";
import { AMOUNT, Status, escrowFixture, stateOf, toStruct, USD } from "./fixture";
import { atTimestamp, thenRevert } from "../helpers/time";
import { signPermit, signTransferAuthorization } from "../../src/eip712";
import { paymentId, type Payment } from "../../src/escrow/payment";
import { INITIAL_BALANCE } from "../helpers/fixtures";

describe("ConditionalEscrow: funding", function () {
  describe("fundWithAuthorization (EIP-3009, nonce = payment id)", function () {
    it("pulls exactly the amount from the payer, records the payment and emits PaymentFunded", async function () {
      const f = await loadFixture(escrowFixture);
      const p = await f.terms();
      const id = f.idOf(p);
      expect(await f.escrow.paymentId(toStruct(p))).to.equal(id);
      await expect(f.fundWithAuthorization(p))
        .to.emit(f.escrow, "PaymentFunded")
        .withArgs(id, f.payer.address, await f.token.getAddress(), AMOUNT, 0)
        .and.to.emit(f.token, "AuthorizationUsed")
        .withArgs(f.payer.address, id);
      expect(await f.token.balanceOf(f.payer)).to.equal(INITIAL_BALANCE - AMOUNT);
      expect(await f.token.balanceOf(f.escrowAddress)).to.equal(AMOUNT);
      expect(await stateOf(f, p)).to.deep.equal({ status: Status.Funded, held: AMOUNT, refundable: 0n });
    });

    it("can be relayed by anyone: the relayer pays gas and no money", async function () {
      const f = await loadFixture(escrowFixture);
      const p = await f.terms();
      await expect(f.fundWithAuthorization(p, { sender: f.other })).to.changeTokenBalances(f.token, [f.payer, f.other, f.escrowAddress], [-AMOUNT, 0n, AMOUNT]);
    });

    it("refuses a second funding of the same payment", async function () {
      const f = await loadFixture(escrowFixture);
      const p = await f.terms();
      await f.fundWithAuthorization(p);
      await expect(f.fundWithAuthorization(p)).to.be.revertedWithCustomError(f.escrow, "EscrowAlreadyFunded").withArgs(f.idOf(p));
      await f.token.connect(f.payer).approve(f.escrowAddress, AMOUNT);
      await expect(f.escrow.connect(f.payer).fund(toStruct(p)))
        .to.be.revertedWithCustomError(f.escrow, "EscrowAlreadyFunded")
        .withArgs(f.idOf(p));
    });

    it("a third party that front-runs the signature can only fund the payment it was signed for", async function () {
      const f = await loadFixture(escrowFixture);
      const p = await f.terms();
      const auth = { from: p.payer, to: f.escrowAddress, value: p.amount, validAfter: 0n, validBefore: p.fundBy + 1n, nonce: f.idOf(p) };
      const sig = await signTransferAuthorization(f.payer, f.domain, auth, "receive");
      // The attacker swaps in itself as payee: a different payment id, so the signature's nonce no longer matches.
      const stolen: Payment = { ...p, payees: [{ account: f.other.address, shareBps: 10_000 }] };
      await expect(f.escrow.connect(f.other).fundWithAuthorization(toStruct(stolen), 0n, auth.validBefore, sig.signature))
        .to.be.revertedWithCustomError(f.token, "NetDollarInvalidSignature")
        .withArgs(f.payer.address);
      // Calling the token directly is refused too: only the payee (the escrow) may submit a receive authorization.
      await expect(
        f.token
          .connect(f.other)
          ["receiveWithAuthorization(address,address,uint256,uint256,uint256,bytes32,bytes)"](
            auth.from,
            auth.to,
            auth.value,
            0n,
            auth.validBefore,
            auth.nonce,
            sig.signature,
          ),
      )
        .to.be.revertedWithCustomError(f.token, "NetDollarCallerNotPayee")
        .withArgs(f.other.address, f.escrowAddress);
      // Front-running with the right terms just funds the payment as the payer intended.
      await expect(f.escrow.connect(f.other).fundWithAuthorization(toStruct(p), 0n, auth.validBefore, sig.signature)).to.emit(f.escrow, "PaymentFunded");
    });

    it("refuses a signature made for another chain or another escrow", async function () {
      const f = await loadFixture(escrowFixture);
      const p = await f.terms();
      const otherEscrow = ethers.Wallet.createRandom().address;
      for (const nonce of [paymentId(p, f.escrowAddress, f.chainId + 1n), paymentId(p, otherEscrow, f.chainId)]) {
        const sig = await signTransferAuthorization(
          f.payer,
          f.domain,
          { from: p.payer, to: f.escrowAddress, value: p.amount, validAfter: 0n, validBefore: p.fundBy + 1n, nonce },
          "receive",
        );
        await expect(f.escrow.fundWithAuthorization(toStruct(p), 0n, p.fundBy + 1n, sig.signature))
          .to.be.revertedWithCustomError(f.token, "NetDollarInvalidSignature")
          .withArgs(f.payer.address);
      }
    });

    it("refuses a signature by someone other than the payer", async function () {
      const f = await loadFixture(escrowFixture);
      const p = await f.terms();
      await expect(f.fundWithAuthorization(p, { signer: f.bob }))
        .to.be.revertedWithCustomError(f.token, "NetDollarInvalidSignature")
        .withArgs(f.payer.address);
    });

    it("accepts funding until fundBy: t-1 and t succeed, t+1 is refused", async function () {
      const f = await loadFixture(escrowFixture);
      const p = await f.terms();
      for (const t of [p.fundBy - 1n, p.fundBy]) {
        await thenRevert(async () => {
          await atTimestamp(t);
          await expect(f.fundWithAuthorization(p)).to.emit(f.escrow, "PaymentFunded");
        });
      }
      await atTimestamp(p.fundBy + 1n);
      await expect(f.fundWithAuthorization(p))
        .to.be.revertedWithCustomError(f.escrow, "EscrowDeadlinePassed")
        .withArgs(p.fundBy, p.fundBy + 1n);
    });

    it("leaves nothing behind when the token refuses (paused, blocklisted payer, insufficient balance)", async function () {
      const f = await loadFixture(escrowFixture);
      const p = await f.terms();
      await f.token.connect(f.pauser).pause();
      await expect(f.fundWithAuthorization(p)).to.be.revertedWithCustomError(f.token, "NetDollarPaused");
      await f.token.connect(f.pauser).unpause();
      await f.token.connect(f.blocklister).blocklist(f.payer);
      await expect(f.fundWithAuthorization(p)).to.be.revertedWithCustomError(f.token, "NetDollarBlocklisted").withArgs(f.payer.address);
      await f.token.connect(f.blocklister).unblocklist(f.payer);
      const big = await f.terms({ amount: INITIAL_BALANCE + 1n });
      await expect(f.fundWithAuthorization(big))
        .to.be.revertedWithCustomError(f.token, "ERC20InsufficientBalance")
        .withArgs(f.payer.address, INITIAL_BALANCE, INITIAL_BALANCE + 1n);
      expect(await stateOf(f, p)).to.deep.equal({ status: Status.None, held: 0n, refundable: 0n });
      expect(await f.token.balanceOf(f.escrowAddress)).to.equal(0n);
    });
  });

  describe("fundWithPermit and fund (approval): the payer's own transaction", function () {
    it("fund pulls from the payer's approval", async function () {
      const f = await loadFixture(escrowFixture);
      const p = await f.terms();
      await f.token.connect(f.payer).approve(f.escrowAddress, AMOUNT);
      await expect(f.escrow.connect(f.payer).fund(toStruct(p)))
        .to.emit(f.escrow, "PaymentFunded")
        .withArgs(f.idOf(p), f.payer.address, await f.token.getAddress(), AMOUNT, 2);
      expect(await f.token.balanceOf(f.escrowAddress)).to.equal(AMOUNT);
      expect(await f.token.allowance(f.payer, f.escrowAddress)).to.equal(0n);
    });

    it("fundWithPermit approves and pulls in one transaction, even if the permit was already used", async function () {
      const f = await loadFixture(escrowFixture);
      const p = await f.terms();
      const deadline = p.fundBy;
      const sig = await signPermit(f.payer, f.domain, { owner: f.payer.address, spender: f.escrowAddress, value: AMOUNT, nonce: 0n, deadline });
      // Someone copies the permit from the mempool and submits it first: funding still works.
      await f.token
        .connect(f.other)
        ["permit(address,address,uint256,uint256,uint8,bytes32,bytes32)"](f.payer, f.escrowAddress, AMOUNT, deadline, sig.v, sig.r, sig.s);
      await expect(f.escrow.connect(f.payer).fundWithPermit(toStruct(p), deadline, sig.v, sig.r, sig.s))
        .to.emit(f.escrow, "PaymentFunded")
        .withArgs(f.idOf(p), f.payer.address, await f.token.getAddress(), AMOUNT, 1);
      const p2 = await f.terms();
      const sig2 = await signPermit(f.payer, f.domain, { owner: f.payer.address, spender: f.escrowAddress, value: AMOUNT, nonce: 1n, deadline });
      await expect(f.escrow.connect(f.payer).fundWithPermit(toStruct(p2), deadline, sig2.v, sig2.r, sig2.s)).to.changeTokenBalances(
        f.token,
        [f.payer, f.escrowAddress],
        [-AMOUNT, AMOUNT],
      );
    });

    it("only the payer may fund from an approval or a permit, so nobody can spend its allowance on other terms", async function () {
      const f = await loadFixture(escrowFixture);
      await f.token.connect(f.payer).approve(f.escrowAddress, ethers.MaxUint256);
      const theft = await f.terms({ payees: [f.other.address] });
      await expect(f.escrow.connect(f.other).fund(toStruct(theft)))
        .to.be.revertedWithCustomError(f.escrow, "EscrowUnauthorized")
        .withArgs(f.other.address, f.payer.address);
      await expect(f.escrow.connect(f.other).fundWithPermit(toStruct(theft), 0n, 27, ethers.ZeroHash, ethers.ZeroHash))
        .to.be.revertedWithCustomError(f.escrow, "EscrowUnauthorized")
        .withArgs(f.other.address, f.payer.address);
    });

    it("fails cleanly without an allowance", async function () {
      const f = await loadFixture(escrowFixture);
      const p = await f.terms();
      await expect(f.escrow.connect(f.payer).fund(toStruct(p)))
        .to.be.revertedWithCustomError(f.token, "ERC20InsufficientAllowance")
        .withArgs(f.escrowAddress, 0n, AMOUNT);
    });

    it("refuses a fee-on-transfer token: the escrow must receive exactly the amount", async function () {
      const f = await loadFixture(escrowFixture);
      const fot = await (await ethers.getContractFactory("MockFeeOnTransferToken")).deploy();
      await fot.mint(f.payer, 1_000n * USD);
      await fot.connect(f.payer).approve(f.escrowAddress, AMOUNT);
      const p = await f.terms({ token: await fot.getAddress() });
      await expect(f.escrow.connect(f.payer).fund(toStruct(p)))
        .to.be.revertedWithCustomError(f.escrow, "EscrowBalanceMismatch")
        .withArgs(AMOUNT, AMOUNT - AMOUNT / 100n);
    });
  });

  describe("terms are validated before any money moves", function () {
    it("refuses the escrow itself as a payee or fee receiver, whose share would be locked for good (review finding I-02)", async function () {
      const f = await loadFixture(escrowFixture);
      const base = await f.terms();
      const asPayee = {
        ...base,
        payees: [
          { ...base.payees[0], shareBps: 5_000 },
          { account: f.escrowAddress, shareBps: 5_000 },
        ],
      };
      await expect(f.escrow.fundWithAuthorization(toStruct(asPayee), 0n, 0n, "0x"))
        .to.be.revertedWithCustomError(f.escrow, "EscrowInvalidPayee")
        .withArgs(1n);
      const asFeeReceiver = { ...base, maxFeeBps: 100, feeReceiver: f.escrowAddress };
      await expect(f.escrow.fundWithAuthorization(toStruct(asFeeReceiver), 0n, 0n, "0x"))
        .to.be.revertedWithCustomError(f.escrow, "EscrowInvalidFeeReceiver")
        .withArgs(f.escrowAddress);
    });

    const cases: [string, (p: Payment) => Payment, string, (p: Payment) => unknown[]][] = [
      ["a zero payer", (p) => ({ ...p, payer: ethers.ZeroAddress }), "EscrowZeroAddress", () => []],
      ["a zero token", (p) => ({ ...p, token: ethers.ZeroAddress }), "EscrowZeroAddress", () => []],
      ["a zero amount", (p) => ({ ...p, amount: 0n }), "EscrowZeroAmount", () => []],
      ["an amount of 2^120", (p) => ({ ...p, amount: 2n ** 120n }), "EscrowAmountTooLarge", () => [2n ** 120n, 2n ** 120n - 1n]],
      ["no payees", (p) => ({ ...p, payees: [] }), "EscrowInvalidPayeeCount", () => [0n, 10n]],
      [
        "eleven payees",
        (p) => ({
          ...p,
          payees: Array.from({ length: 11 }, (_, i) => ({
            account: ethers.getAddress("0x" + (i + 1).toString(16).padStart(40, "0")),
            shareBps: i === 0 ? 1000 : 900,
          })),
        }),
        "EscrowInvalidPayeeCount",
        () => [11n, 10n],
      ],
      ["a zero payee", (p) => ({ ...p, payees: [{ account: ethers.ZeroAddress, shareBps: 10_000 }] }), "EscrowInvalidPayee", () => [0n]],
      [
        "a payee with no share",
        (p) => ({
          ...p,
          payees: [
            { ...p.payees[0], shareBps: 10_000 },
            { account: ethers.Wallet.createRandom().address, shareBps: 0 },
          ],
        }),
        "EscrowInvalidPayee",
        () => [1n],
      ],
      ["shares that do not sum to 10,000", (p) => ({ ...p, payees: [{ ...p.payees[0], shareBps: 9_999 }] }), "EscrowSharesNotWhole", () => [9_999n]],
      ["min fee above max fee", (p) => ({ ...p, minFeeBps: 2, maxFeeBps: 1, feeReceiver: p.payer }), "EscrowInvalidFeeBounds", () => [2n, 1n]],
      ["a fee above 100%", (p) => ({ ...p, maxFeeBps: 10_001, feeReceiver: p.payer }), "EscrowInvalidFeeBounds", () => [0n, 10_001n]],
      ["a fee without a receiver", (p) => ({ ...p, maxFeeBps: 100 }), "EscrowMissingFeeReceiver", () => []],
      [
        "fundBy after confirmBy",
        (p) => ({ ...p, fundBy: p.confirmBy + 1n }),
        "EscrowInvalidDeadlines",
        (p) => [p.confirmBy + 1n, p.confirmBy, p.disputeWindow, p.refundBy],
      ],
      [
        "refundBy before the end of the dispute window",
        (p) => ({ ...p, refundBy: p.confirmBy + p.disputeWindow - 1n }),
        "EscrowInvalidDeadlines",
        (p) => [p.fundBy, p.confirmBy, p.disputeWindow, p.confirmBy + p.disputeWindow - 1n],
      ],
    ];
    for (const [what, change, error, args] of cases) {
      it(`refuses ${what}`, async function () {
        const f = await loadFixture(escrowFixture);
        const base = await f.terms();
        // Validation comes before any signature or money is touched, so no signature is needed to see it.
        await expect(f.escrow.fundWithAuthorization(toStruct(change(base)), 0n, 0n, "0x"))
          .to.be.revertedWithCustomError(f.escrow, error)
          .withArgs(...args(base));
      });
    }

    it("refuses a non-canonical encoding of the terms (dirty high bits), so one payment has one id", async function () {
      const f = await loadFixture(escrowFixture);
      const p = await f.terms();
      await f.token.connect(f.payer).approve(f.escrowAddress, AMOUNT);
      const data = f.escrow.interface.encodeFunctionData("paymentId", [toStruct(p)]);
      // word 8 of the tuple head (after the selector and the tuple offset) is minFeeBps: set a bit above uint16.
      const words = data.slice(10).match(/.{64}/g)!;
      words[1 + 7] = (BigInt("0x" + words[1 + 7]) | (1n << 200n)).toString(16).padStart(64, "0");
      const dirty = data.slice(0, 10) + words.join("");
      await expect(f.payer.call({ to: f.escrowAddress, data: dirty })).to.be.reverted;
      await expect(ethers.provider.call({ to: f.escrowAddress, data: dirty })).to.be.revertedWithCustomError(f.escrow, "EscrowNonCanonicalEncoding");
    });
  });
});
