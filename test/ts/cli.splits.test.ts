import { expect } from "chai";
import { ADDRESSES, KEYS, deployWithAgentFunds, ok, startCliEnvironment, type CliEnvironment } from "../helpers/cli";
import type { NetDollar } from "../../typechain-types";

const USD = 1_000_000n;

/** `netd split create|show|distribute|withdraw` against a real node, as a user runs them (issue #18). */
describe("netd split: create, show, distribute, withdraw", function () {
  this.timeout(300_000);
  let env: CliEnvironment;
  let token: NetDollar;
  let split: string;
  const [creator, source, platform] = [ADDRESSES.creator1, ADDRESSES.auditor, ADDRESSES.merchant];
  const entries = [`${creator}:7000`, `${source}:2000`, `${platform}:1000`];

  before(async function () {
    env = await startCliEnvironment();
    ({ token } = await deployWithAgentFunds(env));
  });
  after(async function () {
    await env?.node.stop();
  });

  it("create makes the split at the address its definition gives, once; bad definitions are refused before anything is sent", async function () {
    const created = ok(await env.run(["split", "create", ...entries, "--yes", "--json"]));
    split = String(created.json.split);
    expect(created.json).to.include({ command: "split create", created: true, remainderRecipient: creator, distributorFeeBps: 0 });
    expect(created.stderr).to.include(`next: use ${split} as a route's payTo`);
    // The same recipients in another order are the same split: found, nothing sent.
    const again = ok(await env.run(["split", "create", entries[2], entries[0], entries[1], "--yes", "--json"]));
    expect(again.json).to.include({ split, created: false });

    const refuse = async (args: string[], message: string) => {
      const run = await env.run(["split", "create", ...args, "--yes"]);
      expect(run.code, run.stderr).to.equal(2);
      expect(run.stderr).to.include(message);
    };
    await refuse([`${creator}:7000`, `${source}:2999`], "the split's shares add up to 9999 basis points, not 10,000");
    await refuse([`${creator}:5000`, `${creator.toLowerCase()}:5000`], `${creator} is listed twice in the split`);
    await refuse([`${creator}:10000`], "a split has 1 recipient: between 2 and 200 are allowed");
    await refuse([`${creator}:5000`, `${source}`], `recipient "${source}" has no share: write ADDRESS:BPS`);
    await refuse([`${creator}:5000`, `${source}:5000`, "--remainder", platform], `the remainder recipient ${platform} is not one of the split's recipients`);
    await refuse([`${creator}:5000`, `${source}:5000`, "--fee", "1001"], '--fee "1001" is not a whole number from 0 to 1,000');
  });

  it("show, then distribute pays each recipient exactly its share; a blocklisted one is credited and withdraws once unblocked", async function () {
    ok(await env.run(["transfer", split, "10", "--yes"], { key: KEYS.agent }));
    const shown = ok(await env.run(["split", "show", split, "--json"], { key: null }));
    expect(shown.json).to.include({ balance: (10n * USD).toString(), credited: "0", distributable: (10n * USD).toString() });
    expect(ok(await env.run(["split", "show", split], { key: null })).stdout).to.include(`  ${creator}      70%`);

    const before = await Promise.all([creator, source, platform].map((a) => token.balanceOf(a)));
    ok(await env.run(["split", "distribute", split, "--yes"], { key: KEYS.agent }));
    const gained = (await Promise.all([creator, source, platform].map((a) => token.balanceOf(a)))).map((b, i) => b - before[i]);
    expect(gained).to.deep.equal([7n * USD, 2n * USD, 1n * USD]);

    const empty = await env.run(["split", "distribute", split, "--yes"], { key: KEYS.agent });
    expect(empty.code).to.equal(2);
    expect(empty.stderr).to.include(`the split ${split} has nothing to distribute`);

    ok(await env.run(["blocklist", "add", source, "--yes"]));
    ok(await env.run(["transfer", split, "5", "--yes"], { key: KEYS.agent }));
    const distributed = ok(await env.run(["split", "distribute", split, "--yes", "--json"], { key: KEYS.agent }));
    expect(distributed.json.credited).to.deep.equal([source]);
    const refused = await env.run(["split", "withdraw", split, source, "--yes"], { key: KEYS.agent });
    expect(refused.code).to.equal(1);
    expect(refused.stderr).to.include(`the token refused the payment to ${source.slice(0, 6)}…${source.slice(-4)} again (still blocklisted?)`);
    ok(await env.run(["blocklist", "remove", source, "--yes"]));
    const sourceBefore = await token.balanceOf(source);
    ok(await env.run(["split", "withdraw", split, source, "--yes"], { key: KEYS.agent }));
    expect((await token.balanceOf(source)) - sourceBefore).to.equal(1n * USD); // 20% of $5
    expect(await token.balanceOf(split)).to.equal(0n);

    const notASplit = await env.run(["split", "show", ADDRESSES.agent], { key: null });
    expect(notASplit.code).to.equal(2);
    expect(notASplit.stderr).to.include(`${ADDRESSES.agent} is not a revenue split on this chain`);
  });
});
