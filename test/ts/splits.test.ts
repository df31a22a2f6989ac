import { expect } from "chai";
import { ethers } from "hardhat";
import { loadFixture } from "@nomicfoundation/hardhat-network-helpers";
import { InvalidInputError } from "../../src/errors";
import { SplitDistributor, resolveSplitRoutes, splitDefinition, getSplitStatus } from "../../src/splits";
import { paywall, type PaidRoute } from "../../src/x402";
import { tokenFixture, USD } from "../helpers/fixtures";

async function fixture() {
  const t = await tokenFixture();
  const factory = await ethers.deployContract("RevenueSplitFactory", t.admin);
  const signers = await ethers.getSigners();
  const [a, b, c] = [signers[13].address, signers[14].address, signers[15].address];
  return { ...t, factory: await factory.getAddress(), a, b, c };
}

/** The library side of revenue splits (src/splits.ts): definitions, routes that name a split, the distributor. */
describe("splits in the library: definitions, routes, the distributor", function () {
  it("splitDefinition sorts, checks as the factory does and picks the largest share for leftovers", async function () {
    const { a, b, c } = await loadFixture(fixture);
    const d = splitDefinition({ [c]: 1000, [a]: 7000, [b]: 2000 });
    expect(d.recipients).to.deep.equal([a, b, c].sort((x, y) => (BigInt(x) < BigInt(y) ? -1 : 1)));
    expect(d.remainderRecipient).to.equal(a);
    expect(() => splitDefinition({ [a]: 5000, [b]: 4999 })).to.throw(InvalidInputError, "the split's shares add up to 9999 basis points, not 10,000");
    expect(() => splitDefinition({ [a]: 10000 })).to.throw(InvalidInputError, "a split has 1 recipient");
    expect(() => splitDefinition({ [a]: 5000, [a.toLowerCase()]: 5000 })).to.throw(InvalidInputError, "is listed twice");
    expect(() => splitDefinition({ [a]: 5000, [b]: 0 })).to.throw(InvalidInputError, "is not a whole number of basis points from 1 to 10000");
    expect(() => splitDefinition({ [a]: 5000, "0x12": 5000 })).to.throw(InvalidInputError, 'split recipient "0x12" is not an address');
    expect(() => splitDefinition({ [a]: 5000, [b]: 5000 }, { distributorFeeBps: 1001 })).to.throw(InvalidInputError, "is not 0 to 1000");
  });

  it("resolveSplitRoutes creates a route's split once and makes it its payTo; a bad split names the route; the paywall refuses an unresolved one", async function () {
    const { factory, admin, a, b, token } = await loadFixture(fixture);
    const routes: Record<string, PaidRoute> = { "GET /paid": { price: "$0.01", split: { [a]: 6000, [b]: 4000 } }, "GET /plain": { price: "$0.01" } };
    const first = await resolveSplitRoutes(routes, { factory, signer: admin });
    const split = first.splits[0];
    expect(first.routes["GET /paid"].payTo).to.equal(split);
    expect(first.routes["GET /plain"]).to.deep.equal({ price: "$0.01" });
    expect(await ethers.provider.getCode(split)).to.not.equal("0x");
    const height = await ethers.provider.getBlockNumber();
    expect((await resolveSplitRoutes(routes, { factory, signer: admin })).splits).to.deep.equal([split]);
    expect(await ethers.provider.getBlockNumber()).to.equal(height); // found, not created again
    await expect(resolveSplitRoutes({ "GET /bad": { price: "$1", split: { [a]: 9000 } } }, { factory, signer: admin })).to.be.rejectedWith(
      InvalidInputError,
      'route "GET /bad": a split has 1 recipient',
    );
    const asset = { address: await token.getAddress(), name: "NET Dollar", version: "1" };
    expect(() => paywall({ routes, payTo: a, network: "eip155:31337", asset, facilitator: {} as never })).to.throw(
      'route "GET /paid" names a split: resolve it first',
    );
  });

  it("SplitDistributor distributes a split once it holds the threshold, not before", async function () {
    const { factory, admin, alice, a, b, token } = await loadFixture(fixture);
    const { splits } = await resolveSplitRoutes({ "GET /x": { price: "$1", split: { [a]: 5000, [b]: 5000 } } }, { factory, signer: admin });
    const events: { kind: string; amount?: bigint }[] = [];
    const distributor = new SplitDistributor({
      signer: admin,
      token: await token.getAddress(),
      splits,
      threshold: 2n * USD,
      intervalMs: 3_600_000,
      pollMs: 20,
      onEvent: (e) => events.push(e),
    });
    distributor.start();
    try {
      await token.connect(alice).transfer(splits[0], 1n * USD);
      await new Promise((r) => setTimeout(r, 300));
      expect(events).to.deep.equal([]); // below the threshold: it waits
      await token.connect(alice).transfer(splits[0], 1n * USD);
      for (let i = 0; i < 100 && events.length === 0; i++) await new Promise((r) => setTimeout(r, 20));
      expect(events).to.have.length(1);
      expect(events[0]).to.include({ kind: "distributed", amount: 2n * USD });
      expect(await token.balanceOf(a)).to.equal(1n * USD);
      expect((await getSplitStatus(splits[0], await token.getAddress(), ethers.provider)).balance).to.equal(0n);
    } finally {
      await distributor.stop();
    }
  });
});
