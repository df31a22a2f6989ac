import { readFileSync } from "node:fs";
import path from "node:path";
import { expect } from "chai";
import { MaxUint256, ZeroHash } from "ethers";
import { ADDRESSES, KEYS, deployWithAgentFunds, ok, startCliEnvironment, type CliEnvironment, type CliRun } from "../helpers/cli";
import type { NetDollar } from "../../typechain-types";

const USD = 1_000_000n;

/** Bad input or a refusal before sending: exit 2, the message, nothing on the chain. */
function refused(run: CliRun, message: string): void {
  expect(run.code, `${run.stdout}\n${run.stderr}`).to.equal(2);
  expect(run.stderr).to.include(message);
}

/**
 * Issue #15, what operators expect and did not have: the default admin's two-step transfer, allowances and
 * approvals, cancelling an authorization, listing the blocklist and the attestors, and the token's events.
 */
describe("netd: admin transfer, allowance, approve, cancel-authorization, blocklist list, attestor list, events", function () {
  this.timeout(300_000);
  let env: CliEnvironment;
  let token: NetDollar;

  before(async function () {
    env = await startCliEnvironment();
    ({ token } = await deployWithAgentFunds(env));
  });
  after(async function () {
    await env?.node.stop();
  });

  it("admin transfer → accept by the new admin; accept by anyone else, cancel and accept with nothing pending are refused", async function () {
    const shown = ok(await env.run(["admin", "show", "--json"], { key: null }));
    expect(shown.json).to.include({ admin: ADDRESSES.issuer, delay: "0", pending: null });

    refused(await env.run(["admin", "accept", "--yes"], { key: KEYS.merchant }), "no default admin transfer is pending");
    refused(await env.run(["admin", "cancel", "--yes"]), "no default admin transfer is pending: nothing to cancel");
    refused(await env.run(["role", "grant", "admin", ADDRESSES.merchant, "--yes"]), "netd admin transfer <account>");

    const begun = ok(await env.run(["admin", "transfer", ADDRESSES.merchant, "--yes", "--json"]));
    expect((begun.json.pending as { account: string }).account).to.equal(ADDRESSES.merchant);
    expect(await token.defaultAdmin()).to.equal(ADDRESSES.issuer); // nothing moves until it is accepted

    const stranger = await env.run(["admin", "accept", "--yes"], { key: KEYS.agent });
    refused(stranger, `the pending admin is ${ADDRESSES.merchant}, not the configured key ${ADDRESSES.agent}`);

    ok(await env.run(["admin", "cancel", "--yes"]));
    expect((await token.pendingDefaultAdmin())[0]).to.equal("0x0000000000000000000000000000000000000000");
    refused(await env.run(["admin", "accept", "--yes"], { key: KEYS.merchant }), "no default admin transfer is pending");

    ok(await env.run(["admin", "transfer", ADDRESSES.merchant, "--yes"]));
    // A devnet's admin delay is 0, but the contract wants a block after the schedule: the CLI mines it on a devnet.
    const accepted = ok(await env.run(["admin", "accept", "--yes", "--json"], { key: KEYS.merchant }));
    expect(accepted.json).to.include({ command: "admin accept", admin: ADDRESSES.merchant, pending: null });
    expect(await token.defaultAdmin()).to.equal(ADDRESSES.merchant);
    expect(await token.hasRole(ZeroHash, ADDRESSES.issuer)).to.equal(false);

    // And back, so that the other tests keep the issuer as admin.
    ok(await env.run(["admin", "transfer", ADDRESSES.issuer, "--yes"], { key: KEYS.merchant }));
    ok(await env.run(["admin", "accept", "--yes"]));
    expect(await token.defaultAdmin()).to.equal(ADDRESSES.issuer);
  });

  it("approve sets an allowance that allowance shows; unlimited, a warning on changing a non-zero allowance, 0 revokes", async function () {
    const before = ok(await env.run(["allowance", ADDRESSES.agent, ADDRESSES.merchant, "--json"], { key: null }));
    expect(before.json).to.include({ allowance: "0", balance: (await token.balanceOf(ADDRESSES.agent)).toString() });

    const set = ok(await env.run(["approve", ADDRESSES.merchant, "25", "--yes", "--json"], { key: KEYS.agent }));
    expect(set.json).to.include({ command: "approve", owner: ADDRESSES.agent, spender: ADDRESSES.merchant, allowance: (25n * USD).toString() });
    expect(await token.allowance(ADDRESSES.agent, ADDRESSES.merchant)).to.equal(25n * USD);

    const changed = ok(await env.run(["approve", ADDRESSES.merchant, "unlimited", "--yes"], { key: KEYS.agent }));
    expect(changed.stderr).to.include("may already take 25.00 NETD");
    expect(changed.stdout).to.include("allowance    unlimited");
    expect(await token.allowance(ADDRESSES.agent, ADDRESSES.merchant)).to.equal(MaxUint256);
    expect(ok(await env.run(["allowance", ADDRESSES.agent, ADDRESSES.merchant], { key: null })).stdout).to.match(/allowance\s+unlimited/);

    ok(await env.run(["approve", ADDRESSES.merchant, "0", "--yes"], { key: KEYS.agent }));
    expect(await token.allowance(ADDRESSES.agent, ADDRESSES.merchant)).to.equal(0n);

    refused(await env.run(["approve", "0x1234", "5", "--yes"], { key: KEYS.agent }), 'spender "0x1234" is not an address');
    refused(await env.run(["approve", ADDRESSES.merchant, "5.0000001", "--yes"], { key: KEYS.agent }), "5.0000001");
    expect(await token.allowance(ADDRESSES.agent, ADDRESSES.merchant)).to.equal(0n);
  });

  it("cancel-authorization by file or nonce: the nonce is spent, the authorization can no longer move money, a second cancel is refused", async function () {
    const file = path.join(env.dir, "pay.json");
    ok(await env.run(["authorize", ADDRESSES.merchant, "1", "--valid-for", "10m", "--out", file], { key: KEYS.agent }));
    const nonce = JSON.parse(readFileSync(file, "utf8")).authorization.nonce as string;

    refused(await env.run(["cancel-authorization", file, "--yes"], { key: KEYS.merchant }), `only that key can cancel it, not ${ADDRESSES.merchant}`);
    const cancelled = ok(await env.run(["cancel-authorization", file, "--yes", "--json"], { key: KEYS.agent }));
    expect(cancelled.json).to.include({ authorizer: ADDRESSES.agent, nonce, cancelled: true });
    expect(await token.authorizationState(ADDRESSES.agent, nonce)).to.equal(true);

    const before = await token.balanceOf(ADDRESSES.merchant);
    const submit = await env.run(["submit-authorization", file, "--yes"], { key: KEYS.merchant });
    expect(submit.code).to.equal(1);
    expect(submit.stderr).to.include(`has already used or cancelled authorization nonce ${nonce}`);
    expect(await token.balanceOf(ADDRESSES.merchant)).to.equal(before);

    refused(
      await env.run(["cancel-authorization", nonce, "--yes"], { key: KEYS.agent }),
      `nonce ${nonce} of ${ADDRESSES.agent} is already used or cancelled: nothing to cancel`,
    );
    refused(await env.run(["cancel-authorization", "0x12", "--yes"], { key: KEYS.agent }), 'nonce "0x12" is not 32 bytes of hex');
    refused(await env.run(["cancel-authorization", path.join(env.dir, "missing.json"), "--yes"], { key: KEYS.agent }), "missing.json");

    const fresh = "0x" + "ab".repeat(32);
    ok(await env.run(["cancel-authorization", fresh, "--yes"], { key: KEYS.agent }));
    expect(await token.authorizationState(ADDRESSES.agent, fresh)).to.equal(true);
  });

  it("blocklist list shows who is blocked now (a lifted block is gone); reserve attestor list shows the oracle's attestors", async function () {
    const empty = ok(await env.run(["blocklist", "list", "--json"], { key: null }));
    const initially = (empty.json.accounts as { account: string }[]).map((a) => a.account);
    ok(await env.run(["blocklist", "add", ADDRESSES.creator1, "--yes"]));
    ok(await env.run(["blocklist", "add", ADDRESSES.merchant, "--yes"]));
    ok(await env.run(["blocklist", "remove", ADDRESSES.merchant, "--yes"]));
    const listed = ok(await env.run(["blocklist", "list", "--json"], { key: null }));
    const accounts = listed.json.accounts as { account: string; balance: string }[];
    expect(accounts.map((a) => a.account)).to.deep.equal([...initially, ADDRESSES.creator1]);
    expect(ok(await env.run(["blocklist", "list"], { key: null })).stdout).to.include(`${ADDRESSES.creator1}  balance 0.00 NETD, since block`);
    ok(await env.run(["blocklist", "remove", ADDRESSES.creator1, "--yes"]));

    expect(ok(await env.run(["reserve", "attestor", "list", "--json"], { key: null })).json.attestors).to.deep.equal([]);
    ok(await env.run(["reserve", "attestor", "add", ADDRESSES.auditor, "--yes"]));
    ok(await env.run(["reserve", "attestor", "add", ADDRESSES.creator1, "--yes"]));
    ok(await env.run(["reserve", "attestor", "remove", ADDRESSES.creator1, "--yes"]));
    const attestors = ok(await env.run(["reserve", "attestor", "list", "--json"], { key: null }));
    expect(attestors.json.attestors).to.deep.equal([ADDRESSES.auditor]);
    expect(ok(await env.run(["reserve", "attestor", "list"], { key: null })).stdout.trim()).to.equal(ADDRESSES.auditor);
  });

  it("events: every mint with its arguments, filters by type, account, block range and --last; bad filters refused", async function () {
    ok(await env.run(["mint", ADDRESSES.creator1, "2.5", "--yes"], { key: KEYS.minter }));
    const mints = ok(await env.run(["events", "--type", "mint", "--json"], { key: null }));
    const list = mints.json.events as { name: string; kind: string; blockNumber: number; args: Record<string, string> }[];
    expect(list.map((e) => [e.name, e.args.to, e.args.amount])).to.deep.equal([
      ["Mint", ADDRESSES.agent, (100n * USD).toString()],
      ["Mint", ADDRESSES.creator1, ((25n * USD) / 10n).toString()],
    ]);
    expect(list[0].args.minter).to.equal(ADDRESSES.minter);
    expect(mints.json.count).to.equal(2);

    const human = ok(await env.run(["events", "--type", "mint"], { key: null }));
    expect(human.stdout).to.match(new RegExp(`Mint\\s+minter ${ADDRESSES.minter}, to ${ADDRESSES.creator1}, amount 2.50 NETD  \\(tx 0x[0-9a-f]{64}\\)`));
    expect(human.stdout.trim().split("\n").at(-1)).to.match(/^2 events in blocks \d+-\d+$/);

    // Its own blocklisting and role change, on an account no other test touches on the token: no test order matters.
    const who = ADDRESSES.auditor;
    for (const args of [
      ["blocklist", "add", who],
      ["blocklist", "remove", who],
      ["role", "grant", "pauser", who],
      ["role", "revoke", "pauser", who],
    ]) {
      ok(await env.run([...args, "--yes"]));
    }
    const blocks = ok(await env.run(["events", "--type", "blocklist", "--account", who, "--json"], { key: null }));
    expect((blocks.json.events as { name: string }[]).map((e) => e.name)).to.deep.equal(["Blocklisted", "Unblocklisted"]);
    const roles = ok(await env.run(["events", "--type", "roles", "--account", who, "--json"], { key: null }));
    const named = roles.json.events as { name: string; args: Record<string, string> }[];
    expect(named.map((e) => [e.name, e.args.role, e.args.account, e.args.sender])).to.deep.equal([
      ["RoleGranted", "PAUSER_ROLE", who, ADDRESSES.issuer],
      ["RoleRevoked", "PAUSER_ROLE", who, ADDRESSES.issuer],
    ]);

    const last = ok(await env.run(["events", "--last", "1", "--json"], { key: null }));
    expect((last.json.events as unknown[]).length).to.equal(1);
    const head = list[1].blockNumber;
    const range = ok(await env.run(["events", "--type", "mint", "--from-block", String(head), "--to-block", String(head), "--json"], { key: null }));
    expect((range.json.events as { args: Record<string, string> }[]).map((e) => e.args.to)).to.deep.equal([ADDRESSES.creator1]);

    refused(await env.run(["events", "--type", "transfers"], { key: null }), 'unknown event type "transfers"');
    refused(await env.run(["events", "--from-block", "9", "--to-block", "3"], { key: null }), "--from-block 9 is after --to-block 3");
    refused(await env.run(["events", "--to-block", "99999999"], { key: null }), "is after the latest block");
    refused(await env.run(["events", "--account", "nobody"], { key: null }), '--account "nobody" is not an address');
  });
});
