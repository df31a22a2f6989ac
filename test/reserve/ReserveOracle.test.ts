import { expect } from "chai";
import { ethers, upgrades } from "hardhat";
import { loadFixture } from "@nomicfoundation/hardhat-network-helpers";
import { USD, oracleFixture } from "./fixture";
import { attestationDigest, attestationDigestV2, signAttestationData, signAttestationDataV2, type AttestationDataV2 } from "../../src/attestation/typedData";
import { initParams } from "../helpers/fixtures";
import type { NetDollarV2 } from "../../typechain-types";
import { atTimestamp, now } from "../helpers/time";
import { strangerKey } from "../helpers/signatures";

describe("ReserveOracle", function () {
  it("computes the same EIP-712 digest as the off-chain tooling", async function () {
    const f = await loadFixture(oracleFixture);
    const data = await f.data();
    expect(await f.oracle.attestationDigest(data)).to.equal(attestationDigest(data));
  });

  it("accepts a signed attestation relayed by anyone, and answers as a Chainlink Proof of Reserve feed", async function () {
    const f = await loadFixture(oracleFixture);
    const data = await f.data();
    await expect(f.oracle.connect(f.other).publish(data, f.attestor, await f.sign(data)))
      .to.emit(f.oracle, "ReservesAttested")
      .withArgs(1, f.attestor.address, data.reserves, data.asOf, attestationDigest(data));
    expect(await f.oracle.latestReserves()).to.deep.equal([data.reserves, data.asOf]);
    expect(await f.oracle.latestRoundData()).to.deep.equal([1n, data.reserves, data.asOf, data.asOf, 1n]);
    expect(await f.oracle.getRoundData(1)).to.deep.equal([1n, data.reserves, data.asOf, data.asOf, 1n]);
    expect(await f.oracle.decimals()).to.equal(6n);
    expect(await f.oracle.description()).to.equal("NET Dollar reserves (USD, attested)");
    expect(await f.oracle.version()).to.equal(1n);
    await expect(f.oracle.getRoundData(2)).to.be.revertedWithCustomError(f.oracle, "ReserveOracleUnknownRound").withArgs(2);
  });

  it("answers zeros before the first attestation", async function () {
    const f = await loadFixture(oracleFixture);
    expect(await f.oracle.latestReserves()).to.deep.equal([0n, 0n]);
    expect(await f.oracle.latestRoundData()).to.deep.equal([0n, 0n, 0n, 0n, 0n]);
  });

  it("refuses a replay and an older attestation, and accepts a newer one as the next round", async function () {
    const f = await loadFixture(oracleFixture);
    const first = await f.data();
    const sig = await f.sign(first);
    await f.oracle.publish(first, f.attestor, sig);
    await expect(f.oracle.publish(first, f.attestor, sig))
      .to.be.revertedWithCustomError(f.oracle, "ReserveOracleNotNewer")
      .withArgs(first.asOf, first.asOf);
    const older = { ...first, asOf: first.asOf - 1n };
    await expect(f.oracle.publish(older, f.attestor, await f.sign(older)))
      .to.be.revertedWithCustomError(f.oracle, "ReserveOracleNotNewer")
      .withArgs(first.asOf - 1n, first.asOf);
    const newer = await f.data({ asOf: first.asOf + 1n, reservesTotal: 6_000n * USD });
    await expect(f.oracle.publish(newer, f.attestor, await f.sign(newer)))
      .to.emit(f.oracle, "ReservesAttested")
      .withArgs(2, f.attestor.address, 6_000n * USD, first.asOf + 1n, attestationDigest(newer));
    expect((await f.oracle.getRoundData(1))[1]).to.equal(5_000n * USD);
  });

  it("refuses a tampered field, naming the attestor whose signature does not match", async function () {
    const f = await loadFixture(oracleFixture);
    const data = await f.data();
    const sig = await f.sign(data);
    const tampered = [
      { ...data, reserves: data.reserves + 1n, lines: [data.lines[0], { ...data.lines[1], amount: data.lines[1].amount + 1n }] },
      { ...data, issuer: "Someone Else" },
      { ...data, accountant: "Other LLP" },
      { ...data, reportSha256: ethers.ZeroHash },
      { ...data, deployments: [{ ...data.deployments[0], outstanding: 0n }] },
      { ...data, lines: [{ ...data.lines[0], kind: "crypto" }, data.lines[1]] },
    ];
    for (const t of tampered) {
      await expect(f.oracle.publish(t, f.attestor, sig))
        .to.be.revertedWithCustomError(f.oracle, "ReserveOracleInvalidSignature")
        .withArgs(f.attestor.address);
    }
  });

  it("refuses a signature by a key that is not an authorised attestor, and one by the wrong key", async function () {
    const f = await loadFixture(oracleFixture);
    const data = await f.data();
    const stranger = strangerKey();
    await expect(f.oracle.publish(data, stranger.address, await signAttestationData(stranger, data)))
      .to.be.revertedWithCustomError(f.oracle, "ReserveOracleUnauthorizedAttestor")
      .withArgs(stranger.address);
    await expect(f.oracle.publish(data, f.attestor, await f.sign(data, f.alice)))
      .to.be.revertedWithCustomError(f.oracle, "ReserveOracleInvalidSignature")
      .withArgs(f.attestor.address);
  });

  it("refuses an attestation for another chain or another token", async function () {
    const f = await loadFixture(oracleFixture);
    const base = await f.data();
    const chainId = (await ethers.provider.getNetwork()).chainId;
    for (const deployment of [
      { ...base.deployments[0], chainId: chainId + 1n },
      { ...base.deployments[0], token: ethers.Wallet.createRandom().address },
    ]) {
      const data = { ...base, deployments: [deployment] };
      await expect(f.oracle.publish(data, f.attestor, await f.sign(data)))
        .to.be.revertedWithCustomError(f.oracle, "ReserveOracleDeploymentNotCovered")
        .withArgs(chainId, await f.token.getAddress());
    }
  });

  it("M-01: deployments covered by one attestation can never mint more than the reserves together", async function () {
    // Two deployments (two tokens here, as if on two chains), each with its own oracle and reserve guard.
    const f = await loadFixture(oracleFixture);
    const factory = await ethers.getContractFactory("NetDollarV2");
    const deploy = async () => {
      const t = (await upgrades.deployProxy(factory, [initParams(f)], { kind: "uups", initializer: "initialize" })) as unknown as NetDollarV2;
      await t.connect(f.minterAdmin).configureMinter(f.minter.address, 10_000n * USD);
      const o = await (await ethers.getContractFactory("ReserveOracle")).deploy(await t.getAddress(), f.admin, 0, [f.attestor]);
      return { t, o };
    };
    const a = await deploy();
    const b = await deploy();
    const chainId = (await ethers.provider.getNetwork()).chainId;
    const base = await f.data({ reservesTotal: 1_000n * USD });
    const entry = async (t: NetDollarV2) => ({ chainId, token: await t.getAddress(), blockNumber: 1n, outstanding: 0n });
    // Version 1 has no allocations: listing both would let each mint the whole $1,000 (what the review showed).
    const v1 = { ...base, deployments: [await entry(a.t), await entry(b.t)] };
    await expect(a.o.publish(v1, f.attestor, await f.sign(v1)))
      .to.be.revertedWithCustomError(a.o, "ReserveOracleSeveralDeployments")
      .withArgs(2n);
    // Version 2: allocations summing above the reserves are refused; $600 + $400 is accepted, each oracle keeps its own.
    const make = async (x: bigint, y: bigint): Promise<AttestationDataV2> => ({
      ...base,
      deployments: [
        { ...(await entry(a.t)), allocation: x },
        { ...(await entry(b.t)), allocation: y },
      ],
    });
    const over = await make(700n * USD, 400n * USD);
    await expect(a.o.publishV2(over, f.attestor, await signAttestationDataV2(f.attestor, over)))
      .to.be.revertedWithCustomError(a.o, "ReserveOracleAllocationsExceedReserves")
      .withArgs(1_100n * USD, 1_000n * USD);
    const good = await make(600n * USD, 400n * USD);
    const sig = await signAttestationDataV2(f.attestor, good);
    expect(await a.o.attestationDigestV2(good)).to.equal(attestationDigestV2(good));
    const published = await a.o.publishV2(good, f.attestor, sig);
    await expect(published)
      .to.emit(a.o, "ReservesAttested")
      .withArgs(1, f.attestor.address, 600n * USD, base.asOf, attestationDigestV2(good));
    const publishedAt = BigInt((await ethers.provider.getBlock((await published.wait())!.blockNumber))!.timestamp);
    await b.o.publishV2(good, f.attestor, sig);
    expect((await b.o.latestReserves())[0]).to.equal(400n * USD);
    expect(await a.o.roundPublishedAt(1)).to.equal(publishedAt);
    expect(await a.o.roundPublishedAt(2)).to.equal(0n);
    for (const { t, o } of [a, b]) await t.connect(f.admin).configureReserveGuard(o, 86_400, 0);
    await a.t.connect(f.minter).mint(f.carol, 600n * USD);
    await b.t.connect(f.minter).mint(f.carol, 400n * USD);
    await expect(a.t.connect(f.minter).mint(f.carol, 1n))
      .to.be.revertedWithCustomError(a.t, "NetDollarReservesExceeded")
      .withArgs(600n * USD + 1n, 600n * USD, 600n * USD);
    await expect(b.t.connect(f.minter).mint(f.carol, 1n)).to.be.revertedWithCustomError(b.t, "NetDollarReservesExceeded");
    expect((await a.t.totalSupply()) + (await b.t.totalSupply())).to.equal(1_000n * USD);
    // A version-2 attestation that does not list this deployment is refused like a version-1 one.
    const elsewhere = { ...good, asOf: good.asOf + 1n, deployments: [good.deployments[1]] };
    await expect(a.o.publishV2(elsewhere, f.attestor, await signAttestationDataV2(f.attestor, elsewhere))).to.be.revertedWithCustomError(
      a.o,
      "ReserveOracleDeploymentNotCovered",
    );
    const unsigned = { ...good, asOf: good.asOf + 1n };
    await expect(a.o.publishV2(unsigned, f.attestor, sig)).to.be.revertedWithCustomError(a.o, "ReserveOracleInvalidSignature");
  });

  it("refuses lines that do not add up, reserves above 2^128 - 1 and an attestation from the future (t+1), accepts t", async function () {
    const f = await loadFixture(oracleFixture);
    const base = await f.data();
    const mismatch = { ...base, reserves: base.reserves + 1n };
    await expect(f.oracle.publish(mismatch, f.attestor, await f.sign(mismatch)))
      .to.be.revertedWithCustomError(f.oracle, "ReserveOracleLinesMismatch")
      .withArgs(base.reserves + 1n, base.reserves);
    const huge = { ...base, reserves: 2n ** 128n, lines: [{ kind: "cash", custodian: "Bank", amount: 2n ** 128n }] };
    await expect(f.oracle.publish(huge, f.attestor, await f.sign(huge)))
      .to.be.revertedWithCustomError(f.oracle, "ReserveOracleReservesTooLarge")
      .withArgs(2n ** 128n);
    const t = (await now()) + 100n;
    const future = { ...base, asOf: t + 1n };
    await atTimestamp(t);
    await expect(f.oracle.publish(future, f.attestor, await f.sign(future)))
      .to.be.revertedWithCustomError(f.oracle, "ReserveOracleFutureAttestation")
      .withArgs(t + 1n, t);
    const present = { ...base, asOf: t + 1n };
    await atTimestamp(t + 1n);
    await expect(f.oracle.publish(present, f.attestor, await f.sign(present))).to.emit(f.oracle, "ReservesAttested");
  });

  it("accepts an attestor that is a smart-contract wallet (ERC-1271)", async function () {
    const f = await loadFixture(oracleFixture);
    const wallet = await (await ethers.getContractFactory("MockERC1271Wallet")).deploy(f.attestor);
    await f.oracle.connect(f.admin).grantRole(await f.oracle.ATTESTOR_ROLE(), wallet);
    const data = await f.data();
    await expect(f.oracle.publish(data, wallet, await f.sign(data))).to.emit(f.oracle, "ReservesAttested");
  });

  it("only the admin manages attestors, and a removed attestor can no longer publish", async function () {
    const f = await loadFixture(oracleFixture);
    const role = await f.oracle.ATTESTOR_ROLE();
    await expect(f.oracle.connect(f.attestor).grantRole(role, f.alice))
      .to.be.revertedWithCustomError(f.oracle, "AccessControlUnauthorizedAccount")
      .withArgs(f.attestor.address, ethers.ZeroHash);
    await f.oracle.connect(f.admin).revokeRole(role, f.attestor);
    const data = await f.data();
    await expect(f.oracle.publish(data, f.attestor, await f.sign(data)))
      .to.be.revertedWithCustomError(f.oracle, "ReserveOracleUnauthorizedAttestor")
      .withArgs(f.attestor.address);
  });

  it("refuses the zero token at deployment", async function () {
    const f = await loadFixture(oracleFixture);
    const factory = await ethers.getContractFactory("ReserveOracle");
    await expect(factory.deploy(ethers.ZeroAddress, f.admin, 0, [])).to.be.revertedWithCustomError(f.oracle, "ReserveOracleZeroToken");
  });
});
