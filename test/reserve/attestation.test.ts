import { expect } from "chai";
import { ethers } from "hardhat";
import { loadFixture, mine, time } from "@nomicfoundation/hardhat-network-helpers";
import type { ReserveOracle } from "../../typechain-types";
import { deployNetDollar, namedAccounts, tokenV2Fixture, USD } from "../helpers/fixtures";
import {
  checkAttestation,
  collateralization,
  createAttestation,
  findBlockAtOrBefore,
  parseAttestationDocument,
  renderMarkdown,
  renderText,
  signAttestation,
  allocate,
  attestationDigestV2,
  toAttestationData,
  toAttestationDataV2,
  toIsoSeconds,
  verifyAttestationSignature,
  type AttestationDocument,
} from "../../src/attestation";
import { InvalidInputError } from "../../src/errors";

describe("reserve attestations: create, sign, verify and the auditor's check", function () {
  const lines = (total: bigint) => [
    { kind: "cash" as const, custodian: "First Bank", amount: total / 4n },
    { kind: "treasury-bills" as const, custodian: "Custody Trust", amount: total - total / 4n },
  ];

  async function fixture() {
    const f = await tokenV2Fixture();
    const accountant = (await ethers.getSigners())[15];
    const oracle = (await (
      await ethers.getContractFactory("ReserveOracle")
    ).deploy(await f.token.getAddress(), f.admin, 0, [accountant])) as unknown as ReserveOracle;
    await f.token.connect(f.admin).configureReserveGuard(oracle, 30 * 86_400, 0);
    await mine(1);
    const supply = await f.token.totalSupply(); // $2,000 (alice and bob), minted before the guard
    /** An attestation as of the latest block's time, signed by the accountant. */
    const attest = async (reserves: bigint, asOf?: bigint, extra: { token: string }[] = []): Promise<AttestationDocument> => {
      const at = asOf ?? BigInt((await ethers.provider.getBlock("latest"))!.timestamp);
      const doc = await createAttestation({
        issuer: "NET Dollar Inc.",
        accountant: "Example Accountants LLP",
        reportSha256: ethers.sha256(ethers.toUtf8Bytes("report")),
        lines: lines(reserves),
        asOf: at,
        deployments: [{ provider: ethers.provider, token: await f.token.getAddress() }, ...extra.map((e) => ({ provider: ethers.provider, token: e.token }))],
      });
      return signAttestation(doc, accountant);
    };
    const check = (document: AttestationDocument, overrides: Partial<Parameters<typeof checkAttestation>[0]> = {}) =>
      checkAttestation({
        document,
        providers: [ethers.provider],
        trustedAttestors: [accountant.address],
        now: BigInt(Math.floor(Date.now() / 1000)) + 10n ** 6n,
        ...overrides,
      });
    return { ...f, accountant, oracle, supply, attest, check };
  }

  it("create reads the supply at the last block at or before asOf; sign and verify round-trip", async function () {
    const f = await loadFixture(fixture);
    const doc = await f.attest(5_000n * USD);
    expect(doc.deployments[0].outstanding).to.equal(f.supply.toString());
    expect(doc.reserves.total).to.equal((5_000n * USD).toString());
    expect(parseAttestationDocument(JSON.parse(JSON.stringify(doc)))).to.deep.equal(doc);
    expect(verifyAttestationSignature(doc, [f.accountant.address])).to.include({ valid: true, trusted: true });
    expect(await f.oracle.attestationDigestV2(toAttestationDataV2(doc))).to.equal(attestationDigestV2(toAttestationDataV2(doc)));
    expect(doc).to.include({ version: 2 });
    expect(doc.deployments[0].allocation).to.equal(doc.reserves.total); // one deployment: all of it
  });

  it("a block exactly at asOf is the attested block; one a second after is not", async function () {
    const f = await loadFixture(fixture);
    await f.token.connect(f.admin).disableReserveGuard();
    const t = BigInt(await time.latest()) + 100n;
    await time.setNextBlockTimestamp(t);
    await mine(1);
    const atAsOf = await ethers.provider.getBlockNumber();
    await time.setNextBlockTimestamp(t + 1n);
    await f.token.connect(f.minter).mint(f.carol, 1n); // would change the supply if it counted
    expect((await findBlockAtOrBefore(ethers.provider, t)).number).to.equal(atAsOf);
    const doc = await f.attest(5_000n * USD, t);
    expect(doc.deployments[0].blockNumber).to.equal(atAsOf.toString());
    expect(doc.deployments[0].blockTimestamp).to.equal(toIsoSeconds(t));
    expect(doc.deployments[0].outstanding).to.equal(f.supply.toString());
  });

  it("where blocks share a timestamp, any block of asOf's second is accepted; an earlier second's is not", async function () {
    const f = await loadFixture(fixture);
    await f.token.connect(f.admin).disableReserveGuard();
    const t = BigInt(await time.latest()) + 100n;
    await time.setNextBlockTimestamp(t);
    await mine(1);
    const doc = await f.attest(f.supply, t);
    await time.setNextBlockTimestamp(t); // a second block in the same second, after the attestation was made
    await f.token.connect(f.minter).mint(f.carol, 1n);
    await time.increase(5);
    expect(await f.check(doc)).to.include({ verdict: "backed", outstanding: f.supply });
    const earlier = await signAttestation({ ...doc, asOf: toIsoSeconds(t + 5n) }, f.accountant);
    expect(await f.check(earlier)).to.include({ verdict: "invalid" });
  });

  it("version 2 (M-01): each deployment must be backed by its own allocation; version 1 still verifies", async function () {
    const f = await loadFixture(fixture);
    const doc = await f.attest(5_000n * USD);
    const unsigned = { ...doc, attestor: undefined, signature: undefined };
    const starved = await signAttestation({ ...unsigned, deployments: [{ ...doc.deployments[0], allocation: (f.supply - 1n).toString() }] }, f.accountant);
    const report = await f.check(starved);
    expect(report).to.include({ verdict: "under-backed" });
    expect(report.problems.map((p) => p.message)).to.deep.include(
      `under-backed on chain 31337: ${f.supply} outstanding, more than the ${f.supply - 1n} allocated to it (base units)`,
    );
    // Allocations above the total, or an allocation in version 1, are refused by the schema.
    expect(() => parseAttestationDocument({ ...starved, deployments: [{ ...starved.deployments[0], allocation: (5_001n * USD).toString() }] })).to.throw(
      InvalidInputError,
    );
    const { allocation: _a, ...v1Deployment } = doc.deployments[0];
    void _a;
    const v1 = await signAttestation({ ...unsigned, version: 1, deployments: [v1Deployment] }, f.accountant);
    expect(verifyAttestationSignature(v1, [f.accountant.address])).to.include({ valid: true });
    expect(toAttestationData(v1).deployments[0]).to.not.have.property("allocation");
    expect(() => parseAttestationDocument({ ...v1, deployments: [doc.deployments[0]] })).to.throw(InvalidInputError);
    await expect(f.oracle.publish(toAttestationData(v1), v1.attestor!, v1.signature!)).to.emit(f.oracle, "ReservesAttested");
  });

  it("allocations: given per chain (summing to at most the total), or proportional to supply with the remainder first", function () {
    expect(
      allocate(1_000n, [
        { chainId: "1", outstanding: 300n },
        { chainId: "8453", outstanding: 100n },
      ]),
    ).to.deep.equal([750n, 250n]);
    expect(
      allocate(1_001n, [
        { chainId: "1", outstanding: 1n },
        { chainId: "8453", outstanding: 2n },
      ]),
    ).to.deep.equal([334n, 667n]);
    expect(
      allocate(10n, [
        { chainId: "1", outstanding: 0n },
        { chainId: "2", outstanding: 0n },
        { chainId: "3", outstanding: 0n },
      ]),
    ).to.deep.equal([4n, 3n, 3n]);
    expect(
      allocate(
        1_000n,
        [
          { chainId: "1", outstanding: 0n },
          { chainId: "8453", outstanding: 0n },
        ],
        { "1": 600n, "8453": 300n },
      ),
    ).to.deep.equal([600n, 300n]);
    expect(() => allocate(1_000n, [{ chainId: "1", outstanding: 0n }], { "1": 1_001n })).to.throw(InvalidInputError, /more than the reserves/);
    expect(() =>
      allocate(
        1_000n,
        [
          { chainId: "1", outstanding: 0n },
          { chainId: "2", outstanding: 0n },
        ],
        { "1": 1n },
      ),
    ).to.throw(InvalidInputError, /no allocation given for chain 2/);
    expect(() => allocate(1_000n, [{ chainId: "1", outstanding: 0n }], { "1": 1n, "5": 1n })).to.throw(InvalidInputError, /chain 5/);
  });

  it("exactly equal reserves are backed (exit 0); one base unit short is not (exit 1)", async function () {
    const f = await loadFixture(fixture);
    const equal = await f.check(await f.attest(f.supply));
    expect(equal).to.include({ verdict: "backed", headroom: 0n, collateralization: "100.0000%" });
    const short = await f.check(await f.attest(f.supply - 1n));
    expect(short).to.include({ verdict: "under-backed", headroom: -1n });
    expect(short.problems.map((p) => p.message)).to.deep.include(
      `under-backed: reserves ${f.supply - 1n} are 1 short of the ${f.supply} outstanding (base units)`,
    );
  });

  it("reconciles the supply with the events since deployment and reports minters' unused allowances", async function () {
    const f = await loadFixture(fixture);
    const doc = await f.attest(5_000n * USD);
    await f.oracle.publishV2(toAttestationDataV2(doc), doc.attestor!, doc.signature!);
    await f.token.connect(f.minter).mint(f.carol, 100n * USD);
    await f.token.connect(f.carol).transfer(f.minter, 40n * USD);
    await f.token.connect(f.minter).burn(10n * USD);
    await f.token.connect(f.minterAdmin).grantRole(await f.token.REDEEMER_ROLE(), f.carol);
    await f.token.connect(f.carol).redeem(5n * USD, ethers.ZeroHash);
    await f.token.connect(f.blocklister).blocklist(f.carol);
    await f.token.connect(f.seizer).seize(f.carol);
    await time.increase(1); // blocks may share a timestamp (as on Arbitrum): make "later" a later second
    const later = await f.attest(5_000n * USD);
    const report = await f.check(later);
    const d = report.deployments[0];
    expect(report.verdict).to.equal("backed");
    expect(d.reconciliation).to.include({ minted: 2_100n * USD, burned: 10n * USD, redeemed: 5n * USD, seized: 55n * USD, matches: true, events: 6 });
    expect(d.reconciliation!.reconstructed).to.equal(await f.token.totalSupply());
    expect(d.minters).to.deep.equal([{ address: f.minter.address, allowance: await f.token.minterAllowance(f.minter) }]);
    expect(d.oracle!.note).to.equal("not published on-chain yet: the oracle's latest attestation is older");
    // the first attestation, published, agrees with the oracle even after being superseded
    await f.oracle.publishV2(toAttestationDataV2(later), later.attestor!, later.signature!);
    const first = await f.check(doc);
    expect(first.deployments[0].oracle).to.include({ agrees: true, note: "round 1 is this attestation (superseded by a later one)" });
  });

  it("a mint after the attested block does not change the verdict", async function () {
    const f = await loadFixture(fixture);
    const doc = await f.attest(f.supply);
    await f.token.connect(f.admin).disableReserveGuard();
    await f.token.connect(f.minter).mint(f.carol, 1_000n * USD);
    const report = await f.check(doc);
    expect(report).to.include({ verdict: "backed", outstanding: f.supply });
  });

  it("sums two deployments, and handles amounts above 2^53 exactly", async function () {
    const f = await loadFixture(fixture);
    const other = await deployNetDollar(await namedAccounts(), "NetDollarV2");
    await other.connect(f.minterAdmin).configureMinter(f.minter, 2n ** 60n);
    const big = 2n ** 53n + 1n; // above 2^53: a JSON number would round it
    await other.connect(f.minter).mint(f.carol, big);
    await mine(1);
    const reserves = f.supply + big + 7n;
    const doc = await f.attest(reserves, undefined, [{ token: await other.getAddress() }]);
    expect(doc.deployments[1].outstanding).to.equal(big.toString());
    const report = await f.check(JSON.parse(JSON.stringify(doc)));
    expect(report).to.include({ verdict: "backed", outstanding: f.supply + big, headroom: 7n });
    expect(report.deployments).to.have.length(2);
  });

  it("refuses by name: a tampered field, a wrong key, an untrusted attestor, a stale one (exit 2)", async function () {
    const f = await loadFixture(fixture);
    const doc = await f.attest(5_000n * USD);
    const tampered = {
      ...doc,
      reserves: {
        ...doc.reserves,
        total: (BigInt(doc.reserves.total) + 1n).toString(),
        lines: [doc.reserves.lines[0], { ...doc.reserves.lines[1], amount: (BigInt(doc.reserves.lines[1].amount) + 1n).toString() }],
      },
    };
    const r1 = await f.check(tampered);
    expect(r1).to.include({ verdict: "invalid" });
    expect(r1.problems[0].message).to.match(/the signature is not 0x\w+'s \(a field was changed after signing, or another key signed\)/);
    const wrongKey = await signAttestation(doc, f.alice);
    const r2 = await f.check({ ...wrongKey, attestor: f.accountant.address });
    expect(r2.problems[0].message).to.match(/the signature is not/);
    const r3 = await f.check(wrongKey);
    expect(r3.problems[0].message).to.equal(`the attestor ${f.alice.address} is not among the trusted attestors`);
    const r4 = await f.check(doc, { maxAgeSeconds: 10n, now: BigInt(Date.parse(doc.asOf) / 1000) + 11n });
    expect(r4).to.include({ verdict: "invalid" });
    expect(r4.problems[0].message).to.equal("the attestation is stale: 11 s old, more than the maximum 10 s");
    const r5 = await f.check(doc, { maxAgeSeconds: 10n, now: BigInt(Date.parse(doc.asOf) / 1000) + 10n });
    expect(r5.verdict).to.equal("backed");
  });

  it("refuses a document whose outstanding figure or block is not the chain's", async function () {
    const f = await loadFixture(fixture);
    const doc = await f.attest(5_000n * USD);
    const sign = signAttestation;
    const wrongSupply = await sign({ ...doc, deployments: [{ ...doc.deployments[0], outstanding: "1" }] }, f.accountant);
    const r1 = await f.check(wrongSupply);
    expect(r1.verdict).to.equal("mismatch");
    expect(r1.problems[0].message).to.match(/the attestation says 1 outstanding at block \d+; the chain says 2000000000/);
    await time.increase(1); // a block a second later: the attested block is no longer the last before asOf + 5,000 s
    await time.increase(10_000);
    const notLast = await sign({ ...doc, asOf: toIsoSeconds(BigInt(Date.parse(doc.asOf) / 1000) + 5000n) }, f.accountant);
    const r2 = await f.check(notLast);
    expect(r2.verdict).to.equal("invalid");
    expect(r2.problems.map((p) => p.message).join("\n")).to.match(/is not the last block at or before asOf/);
  });

  it("a chain it cannot read (no endpoint for it) is 'unverified', exit 3", async function () {
    const f = await loadFixture(fixture);
    const doc = await f.attest(5_000n * USD);
    const other = await signAttestation({ ...doc, deployments: [{ ...doc.deployments[0], chainId: "8453" }] }, f.accountant);
    const report = await f.check(other);
    expect(report).to.include({ verdict: "unreadable" });
    expect(report.problems[0].message).to.equal("chain 8453 could not be read: no --rpc-url was given for it");
  });

  it("locates where the running sum of events parts from totalSupply", async function () {
    const f = await loadFixture(fixture);
    const silent = await (await ethers.getContractFactory("MockSilentMintToken")).deploy();
    await silent.mint(f.alice, 100n);
    await mine(3);
    await silent.silentMint(f.alice, 5n); // supply moves without a Mint event
    const divergedAt = await ethers.provider.getBlockNumber();
    await mine(3);
    await silent.mint(f.alice, 1n);
    await mine(1);
    const at = BigInt((await ethers.provider.getBlock("latest"))!.timestamp);
    const doc = await signAttestation(
      await createAttestation({
        issuer: "I",
        accountant: "A",
        reportSha256: ethers.ZeroHash,
        lines: lines(1_000n),
        asOf: at,
        deployments: [{ provider: ethers.provider, token: await silent.getAddress() }],
      }),
      f.accountant,
    );
    const report = await f.check(doc, { chunkSize: 2 });
    const rec = report.deployments[0].reconciliation!;
    expect(report.verdict).to.equal("mismatch");
    expect(rec).to.include({ matches: false, reconstructed: 101n });
    expect(rec.divergence).to.deep.equal({ lastAgreeingBlock: divergedAt - 1, firstDivergingBlock: divergedAt, eventsSum: 100n, totalSupply: 105n });
    expect(renderText(report)).to.match(new RegExp(`diverges between block ${divergedAt - 1} and ${divergedAt}`));
    expect(renderMarkdown(report)).to.match(/\*\*mismatch\*\*/);
  });

  it("computes collateralization in integers", function () {
    expect(collateralization(1_005_025n, 1_000_000n)).to.equal("100.5025%");
    expect(collateralization(2n ** 200n, 3n)).to.match(/^\d+\.\d{4}%$/);
    expect(collateralization(1n, 3n)).to.equal("33.3333%");
    expect(collateralization(5n, 0n)).to.equal("n/a (nothing outstanding)");
  });

  it("validates documents by schema, naming the field", function () {
    const base = {
      type: "netd/reserve-attestation",
      version: 1,
      issuer: "I",
      asOf: "2026-11-30T23:59:59Z",
      deployments: [{ chainId: "1", token: "0x" + "11".repeat(20), blockNumber: "5", blockTimestamp: "2026-11-30T23:59:50Z", outstanding: "10" }],
      reserves: { total: "10", lines: [{ kind: "cash", custodian: "B", amount: "10" }] },
      accountant: "A",
      report: { sha256: "0x" + "22".repeat(32) },
    };
    expect(() => parseAttestationDocument(base)).to.not.throw();
    const bad: [unknown, RegExp][] = [
      [{ ...base, version: 3 }, /version: Invalid/],
      [{ ...base, version: 2 }, /deployments.0.allocation: is required in version 2/],
      [{ ...base, asOf: "2026-11-30 23:59:59" }, /asOf: must be UTC time to the second/],
      [{ ...base, reserves: { ...base.reserves, total: 10 } }, /reserves\.total: Expected string, received number/],
      [{ ...base, reserves: { ...base.reserves, total: "11" } }, /reserves\.total: is 11 but the lines add up to 10/],
      [{ ...base, reserves: { total: "10", lines: [{ kind: "bitcoin", custodian: "B", amount: "10" }] } }, /reserves\.lines\.0\.kind: Invalid enum value/],
      [{ ...base, deployments: [{ ...base.deployments[0], blockTimestamp: "2026-12-01T00:00:00Z" }] }, /blockTimestamp: is after asOf/],
      [{ ...base, report: { sha256: "0x12" } }, /report\.sha256: not 32 bytes of hex/],
      [{ ...base, signature: "0x12" }, /signature: attestor and signature come together/],
    ];
    for (const [doc, message] of bad)
      expect(() => parseAttestationDocument(doc))
        .to.throw(InvalidInputError)
        .with.property("details")
        .that.match(message);
  });
});
