import { expect } from "chai";
import { ethers } from "hardhat";
import { loadFixture } from "@nomicfoundation/hardhat-network-helpers";
import fc from "fast-check";
import { getAddress } from "ethers";
import { RevenueSplit__factory, type MockCallbackToken, type RevenueSplit, type RevenueSplitFactory } from "../../typechain-types";
import { tokenFixture, USD } from "../helpers/fixtures";
import { fcParameters } from "../helpers/fastcheck";

/** Addresses sorted ascending, as a split's definition wants them. */
function ascending(addresses: string[]): string[] {
  return [...addresses].map(getAddress).sort((a, b) => (BigInt(a) < BigInt(b) ? -1 : 1));
}

async function splitsFixture() {
  const t = await tokenFixture();
  // Through Hardhat's artifacts (not the typechain bytecode), so that coverage measures the instrumented code.
  const factory = (await ethers.deployContract("RevenueSplitFactory", t.admin)) as unknown as RevenueSplitFactory;
  const signers = await ethers.getSigners();
  // Three recipients (creator, source, platform), in ascending order, with 70% / 20% / 10%.
  const recipients = ascending([signers[13].address, signers[14].address, signers[15].address]);
  const shares = [7000, 2000, 1000];
  const create = async (r: string[], s: number[], remainder = r[0], fee = 0): Promise<RevenueSplit> => {
    const address = await factory.predictSplit(r, s, remainder, fee);
    await (await factory.createSplit(r, s, remainder, fee)).wait();
    return RevenueSplit__factory.connect(address, t.admin);
  };
  const split = await create(recipients, shares);
  return { ...t, factory, recipients, shares, split, create, signers };
}

describe("RevenueSplit and its factory", function () {
  describe("creating a split", function () {
    it("at the address its definition predicts, once: SplitCreated with the definition; created again, the same split and no event", async function () {
      const { factory, recipients, shares } = await loadFixture(splitsFixture);
      const other = ascending([recipients[0], recipients[1]]);
      const predicted = await factory.predictSplit(other, [5000, 5000], other[1], 50);
      expect(await ethers.provider.getCode(predicted)).to.equal("0x");
      await expect(factory.createSplit(other, [5000, 5000], other[1], 50))
        .to.emit(factory, "SplitCreated")
        .withArgs(predicted, other, [5000, 5000], other[1], 50);
      expect(await ethers.provider.getCode(predicted)).to.not.equal("0x");
      await expect(factory.createSplit(other, [5000, 5000], other[1], 50)).to.not.emit(factory, "SplitCreated");
      expect(await factory.createSplit.staticCall(other, [5000, 5000], other[1], 50)).to.equal(predicted);
      const split = RevenueSplit__factory.connect(predicted, ethers.provider);
      const [r, s, remainder, fee] = await split.split();
      expect([r, s.map(Number), remainder, Number(fee)]).to.deep.equal([other, [5000, 5000], other[1], 50]);
      // A different remainder recipient or fee is a different split.
      expect(await factory.predictSplit(other, [5000, 5000], other[0], 50)).to.not.equal(predicted);
      expect(await factory.predictSplit(recipients, shares, recipients[0], 0)).to.not.equal(predicted);
    });

    it("refuses shares that do not sum to 10,000, duplicate, zero or unsorted recipients, zero shares, bad counts, a foreign remainder recipient and a fee above 10%", async function () {
      const {
        factory,
        recipients: [a, b, c],
      } = await loadFixture(splitsFixture);
      const zero = ethers.ZeroAddress;
      await expect(factory.createSplit([a, b], [5000, 4999], a, 0))
        .to.be.revertedWithCustomError(factory, "RevenueSplitSharesNotWhole")
        .withArgs(9999);
      await expect(factory.createSplit([a, b], [5000, 5001], a, 0))
        .to.be.revertedWithCustomError(factory, "RevenueSplitSharesNotWhole")
        .withArgs(10001);
      await expect(factory.createSplit([a, a], [5000, 5000], a, 0))
        .to.be.revertedWithCustomError(factory, "RevenueSplitRecipientsNotAscending")
        .withArgs(1);
      await expect(factory.createSplit([b, a], [5000, 5000], a, 0))
        .to.be.revertedWithCustomError(factory, "RevenueSplitRecipientsNotAscending")
        .withArgs(1);
      await expect(factory.createSplit([zero, a], [5000, 5000], a, 0))
        .to.be.revertedWithCustomError(factory, "RevenueSplitRecipientsNotAscending")
        .withArgs(0);
      await expect(factory.createSplit([a, b, c], [5000, 5000, 0], a, 0))
        .to.be.revertedWithCustomError(factory, "RevenueSplitZeroShare")
        .withArgs(2);
      await expect(factory.createSplit([a], [10000], a, 0))
        .to.be.revertedWithCustomError(factory, "RevenueSplitInvalidRecipientCount")
        .withArgs(1, 200);
      const many = ascending(Array.from({ length: 201 }, (_, i) => "0x" + (i + 1).toString(16).padStart(40, "0")));
      await expect(factory.createSplit(many, Array(201).fill(1), many[0], 0))
        .to.be.revertedWithCustomError(factory, "RevenueSplitInvalidRecipientCount")
        .withArgs(201, 200);
      await expect(factory.createSplit([a, b], [10000], a, 0))
        .to.be.revertedWithCustomError(factory, "RevenueSplitLengthMismatch")
        .withArgs(2, 1);
      await expect(factory.createSplit([a, b], [5000, 5000], c, 0))
        .to.be.revertedWithCustomError(factory, "RevenueSplitInvalidRemainderRecipient")
        .withArgs(c);
      await expect(factory.createSplit([a, b], [5000, 5000], a, 1001))
        .to.be.revertedWithCustomError(factory, "RevenueSplitFeeTooHigh")
        .withArgs(1001, 1000);
      await expect(factory.predictSplit([a, b], [5000, 4999], a, 0))
        .to.be.revertedWithCustomError(factory, "RevenueSplitSharesNotWhole")
        .withArgs(9999);
      expect(await factory.createSplit.staticCall([a, b], [5000, 5000], a, 1000)).to.match(/^0x[0-9a-fA-F]{40}$/); // 10% is allowed
    });

    it("the implementation is not a split: every entry point refuses", async function () {
      const { factory, token, alice } = await loadFixture(splitsFixture);
      const impl = RevenueSplit__factory.connect(await factory.implementation(), alice);
      await expect(impl.distribute(token, alice)).to.be.revertedWithCustomError(impl, "RevenueSplitNotAClone");
      await expect(impl.withdraw(token, alice)).to.be.revertedWithCustomError(impl, "RevenueSplitNotAClone");
      await expect(impl.split()).to.be.revertedWithCustomError(impl, "RevenueSplitNotAClone");
    });
  });

  describe("distributing", function () {
    it("pays each recipient its share of the balance in one transaction; Distributed with the amount; the split is left empty", async function () {
      const { token, alice, split, recipients } = await loadFixture(splitsFixture);
      await token.connect(alice).transfer(split, 10n * USD);
      const before = await Promise.all(recipients.map((r) => token.balanceOf(r)));
      await expect(split.connect(alice).distribute(token, alice))
        .to.emit(split, "Distributed")
        .withArgs(await token.getAddress(), 10n * USD, alice.address, 0n);
      const after = await Promise.all(recipients.map((r) => token.balanceOf(r)));
      expect(after.map((b, i) => b - before[i])).to.deep.equal([7n * USD, 2n * USD, 1n * USD]);
      expect(await token.balanceOf(split)).to.equal(0n);
      expect(await split.distribute.staticCall(token, alice)).to.equal(0n); // nothing left: nothing to do
      await expect(split.distribute(token, alice)).to.not.emit(split, "Distributed");
    });

    it("rounding at the smallest amounts: 1 and 2 base units across three go to the remainder recipient; nothing is left as dust", async function () {
      const { token, alice, create, recipients } = await loadFixture(splitsFixture);
      const thirds = await create(recipients, [3334, 3333, 3333], recipients[1]);
      const balances = () => Promise.all(recipients.map((r) => token.balanceOf(r)));
      for (const amount of [1n, 2n, 3n]) {
        const before = await balances();
        await token.connect(alice).transfer(thirds, amount);
        await thirds.distribute(token, alice);
        const gained = (await balances()).map((b, i) => b - before[i]);
        // Below 10,000/3333 units a 33.33% share rounds down to 0 (3 × 33.34% is 1): the rest goes to the remainder recipient.
        const expected = amount === 3n ? [1n, 2n, 0n] : [0n, amount, 0n];
        expect(gained, `${amount} base units`).to.deep.equal(expected);
        expect(await token.balanceOf(thirds)).to.equal(0n);
      }
    });

    it("a distributor fee goes to the distributor named (or the caller when none is): taken before the shares", async function () {
      const { token, alice, bob, create, recipients } = await loadFixture(splitsFixture);
      const withFee = await create(recipients, [7000, 2000, 1000], recipients[0], 100); // 1%
      await token.connect(alice).transfer(withFee, 100n * USD);
      const bobBefore = await token.balanceOf(bob);
      await expect(withFee.connect(alice).distribute(token, bob))
        .to.emit(withFee, "Distributed")
        .withArgs(await token.getAddress(), 100n * USD, bob.address, 1n * USD);
      expect((await token.balanceOf(bob)) - bobBefore).to.equal(1n * USD);
      expect(await token.balanceOf(recipients[1])).to.equal((99n * USD * 2000n) / 10000n);
      await token.connect(alice).transfer(withFee, 100n * USD);
      const aliceBefore = await token.balanceOf(alice);
      await withFee.connect(alice).distribute(token, ethers.ZeroAddress);
      expect((await token.balanceOf(alice)) - aliceBefore).to.equal(1n * USD);
    });

    it("a blocklisted recipient is credited and never blocks the others; it withdraws once unblocked; credits are never distributed again", async function () {
      const { token, alice, blocklister, split, recipients } = await loadFixture(splitsFixture);
      const [, source, platform] = recipients;
      await token.connect(blocklister).blocklist(source);
      await token.connect(alice).transfer(split, 10n * USD);
      const tokenAddress = await token.getAddress();
      await expect(split.distribute(token, alice))
        .to.emit(split, "Credited")
        .withArgs(tokenAddress, source, 2n * USD);
      expect(await token.balanceOf(recipients[0])).to.equal(7n * USD);
      expect(await token.balanceOf(platform)).to.equal(1n * USD);
      expect(await split.credited(token, source)).to.equal(2n * USD);
      expect(await split.totalCredited(token)).to.equal(2n * USD);
      expect(await token.balanceOf(split)).to.equal(2n * USD);
      // The credit is not distributable: a second distribution has nothing to share.
      expect(await split.distribute.staticCall(token, alice)).to.equal(0n);
      // Still blocklisted: the withdrawal is refused and the credit kept.
      await expect(split.withdraw(token, source)).to.be.revertedWithCustomError(split, "RevenueSplitTransferFailed").withArgs(tokenAddress, source);
      await token.connect(blocklister).unblocklist(source);
      await expect(split.connect(alice).withdraw(token, source))
        .to.emit(split, "Withdrawn")
        .withArgs(tokenAddress, source, 2n * USD);
      expect(await token.balanceOf(source)).to.equal(2n * USD);
      expect(await split.totalCredited(token)).to.equal(0n);
      await expect(split.withdraw(token, source)).to.be.revertedWithCustomError(split, "RevenueSplitNothingToWithdraw").withArgs(tokenAddress, source);
    });

    it("a paused token (or a blocklisted split) refuses every payment: the distribution reverts and credits nothing; it runs once unpaused", async function () {
      const { token, alice, pauser, blocklister, split, recipients } = await loadFixture(splitsFixture);
      await token.connect(alice).transfer(split, 10n * USD);
      await token.connect(pauser).pause();
      await expect(split.distribute(token, alice))
        .to.be.revertedWithCustomError(split, "RevenueSplitTokenRefused")
        .withArgs(await token.getAddress());
      await token.connect(pauser).unpause();
      await token.connect(blocklister).blocklist(split);
      await expect(split.distribute(token, alice)).to.be.revertedWithCustomError(split, "RevenueSplitTokenRefused");
      await token.connect(blocklister).unblocklist(split);
      expect(await split.totalCredited(token)).to.equal(0n);
      await split.distribute(token, alice);
      expect(await token.balanceOf(recipients[0])).to.equal(7n * USD);
    });

    it("reentrancy through a malicious token: a nested distribute or withdraw is refused, the outer one completes exactly", async function () {
      const { admin, split, recipients } = await loadFixture(splitsFixture);
      const evil = (await ethers.deployContract("MockCallbackToken", admin)) as unknown as MockCallbackToken;
      for (const data of [
        split.interface.encodeFunctionData("distribute", [await evil.getAddress(), admin.address]),
        split.interface.encodeFunctionData("withdraw", [await evil.getAddress(), recipients[0]]),
      ]) {
        await evil.mint(split, 1000n);
        await evil.setCallback(split, data); // armed after the mint: it fires on the split's first payout
        await split.distribute(evil, admin);
        expect(await evil.callbackAttempted()).to.equal(true);
        expect(await evil.callbackSucceeded()).to.equal(false);
        expect((await evil.callbackError()).slice(0, 10)).to.equal(split.interface.getError("ReentrancyGuardReentrantCall")!.selector);
      }
      expect(await evil.balanceOf(split)).to.equal(0n);
      expect((await Promise.all(recipients.map((r) => evil.balanceOf(r)))).reduce((a, b) => a + b)).to.equal(2000n);
    });

    it("a token that returns false or reverts for one recipient credits it; one that answers nothing counts as paid", async function () {
      const { admin, split, recipients } = await loadFixture(splitsFixture);
      const mock = (await ethers.deployContract("MockCallbackToken", admin)) as unknown as MockCallbackToken;
      await mock.setBlocked(recipients[2], true);
      await mock.mint(split, 10_000n);
      await expect(split.distribute(mock, admin))
        .to.emit(split, "Credited")
        .withArgs(await mock.getAddress(), recipients[2], 1000n);
      expect(await mock.balanceOf(recipients[0])).to.equal(7000n);
    });
  });

  describe("property: over random payments, blocks and distributions nothing is lost and each recipient gets its share", function () {
    it("Σ paid + Σ credited + balance = Σ received; each total within one base unit per distribution of its share", async function () {
      const { token, alice, blocklister, create, signers } = await loadFixture(splitsFixture);
      const people = ascending(signers.slice(13, 18).map((s) => s.address));
      const op = fc.oneof(
        fc.record({ kind: fc.constant("pay" as const), amount: fc.oneof(fc.bigInt({ min: 1n, max: 10n }), fc.bigInt({ min: 1n, max: 5n * USD })) }),
        fc.record({ kind: fc.constant("distribute" as const) }),
        fc.record({ kind: fc.constant("block" as const), who: fc.nat({ max: 4 }) }),
        fc.record({ kind: fc.constant("withdraw" as const), who: fc.nat({ max: 4 }) }),
      );
      const shares = fc.array(fc.integer({ min: 1, max: 4000 }), { minLength: 2, maxLength: 5 }).map((w) => {
        const total = w.reduce((a, b) => a + b, 0);
        const s = w.map((x) => Math.max(1, Math.floor((x * 10_000) / total)));
        s[0] += 10_000 - s.reduce((a, b) => a + b, 0);
        return s;
      });
      await fc.assert(
        fc.asyncProperty(
          shares.filter((s) => s.every((x) => x > 0)),
          fc.array(op, { minLength: 1, maxLength: 12 }),
          async (s, ops) => {
            const members = people.slice(0, s.length);
            const split = await create(members, s, members[s.length - 1]);
            const start = await Promise.all(members.map((m) => token.balanceOf(m)));
            const already = await token.balanceOf(split); // a split reused by an earlier run
            let received = already - (await split.totalCredited(token));
            const startCredits = await Promise.all(members.map((m) => split.credited(token, m)));
            let distributions = 0;
            const blocked = new Set<string>();
            for (const o of ops) {
              if (o.kind === "pay") {
                await token.connect(alice).transfer(split, o.amount);
                received += o.amount;
              } else if (o.kind === "distribute") {
                const ok = await split.distribute.staticCall(token, alice).then(
                  () => true,
                  () => false,
                );
                if (ok) {
                  await split.distribute(token, alice);
                  distributions++;
                }
              } else {
                const who = members[o.who % members.length];
                if (o.kind === "block") {
                  await (blocked.has(who) ? token.connect(blocklister).unblocklist(who) : token.connect(blocklister).blocklist(who));
                  if (blocked.has(who)) blocked.delete(who);
                  else blocked.add(who);
                } else if ((await split.credited(token, who)) > 0n && !blocked.has(who)) {
                  await split.withdraw(token, who);
                }
              }
            }
            for (const who of blocked) await token.connect(blocklister).unblocklist(who);
            const paid = (await Promise.all(members.map((m) => token.balanceOf(m)))).map((b, i) => b - start[i]);
            const credits = (await Promise.all(members.map((m) => split.credited(token, m)))).map((c, i) => c - startCredits[i]);
            const balance = await token.balanceOf(split);
            const undistributed = balance - (await split.totalCredited(token));
            expect(paid.reduce((a, b) => a + b, 0n) + credits.reduce((a, b) => a + b, 0n) + undistributed).to.equal(received);
            const distributed = received - undistributed;
            for (let i = 0; i < members.length; i++) {
              const due = (distributed * BigInt(s[i])) / 10_000n;
              const got = paid[i] + credits[i];
              const slack = BigInt(distributions) * BigInt(members.length);
              if (i === members.length - 1) expect(got >= due && got <= due + slack, `remainder recipient ${got} vs ${due}`).to.equal(true);
              else expect(got <= due && got + BigInt(distributions) >= due, `recipient ${i}: ${got} vs ${due}`).to.equal(true);
            }
          },
        ),
        fcParameters("splits", { numRuns: 20 }),
      );
    });
  });
});
