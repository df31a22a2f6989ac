import { expect } from "chai";
import { ethers, upgrades } from "hardhat";
import { loadFixture } from "@nomicfoundation/hardhat-network-helpers";
import { AbiCoder, keccak256 } from "ethers";
import type { MockReserveOracle, NetDollar, NetDollarV2 } from "../../typechain-types";
import { INITIAL_BALANCE, USD, tokenFixture, tokenV2Fixture, type TokenFixture } from "../helpers/fixtures";
import { atTimestamp, now } from "../helpers/time";
import { signAttestationData } from "../../src/attestation/typedData";
import { shouldBehaveLikeERC20 } from "./behaviors/ERC20.behavior";
import { shouldBehaveLikePermit } from "./behaviors/ERC20Permit.behavior";
import { shouldBehaveLikeERC3009 } from "./behaviors/ERC3009.behavior";

const DAY = 86_400;

describe("NetDollarV2 (reserve guard)", function () {
  describe("shared behaviour of the current version", function () {
    // (the suites type the token as NetDollar; V2 is a NetDollar)
    const asV1 = tokenV2Fixture as unknown as () => Promise<TokenFixture>;
    shouldBehaveLikeERC20(asV1);
    shouldBehaveLikePermit(asV1);
    shouldBehaveLikeERC3009(asV1);
  });

  type GuardFixture = Omit<TokenFixture, "token"> & { token: NetDollarV2; oracle: MockReserveOracle };

  /** V2 with a mock oracle attesting $5,000 a minute ago, guard on: max age one day, no buffer. Supply is $2,000. */
  async function guardFixture(): Promise<GuardFixture> {
    const f = await tokenV2Fixture();
    const oracle = (await (await ethers.getContractFactory("MockReserveOracle")).deploy()) as unknown as MockReserveOracle;
    await oracle.set(5_000n * USD, (await now()) - 60n);
    await f.token.connect(f.admin).configureReserveGuard(oracle, DAY, 0);
    return { ...f, oracle };
  }

  describe("configuration", function () {
    it("is off until configured: minting is not checked", async function () {
      const f = await loadFixture(tokenV2Fixture);
      expect(await f.token.reserveGuard()).to.deep.equal([ethers.ZeroAddress, 0n, 0n]);
      await expect(f.token.connect(f.minter).mint(f.carol, 100_000n * USD)).to.emit(f.token, "Mint");
    });

    it("configureReserveGuard sets the oracle, maximum age and buffer and emits ReserveGuardConfigured", async function () {
      const f = await loadFixture(tokenV2Fixture);
      const oracle = await (await ethers.getContractFactory("MockReserveOracle")).deploy();
      await expect(f.token.connect(f.admin).configureReserveGuard(oracle, DAY, 150))
        .to.emit(f.token, "ReserveGuardConfigured")
        .withArgs(await oracle.getAddress(), DAY, 150);
      expect(await f.token.reserveGuard()).to.deep.equal([await oracle.getAddress(), BigInt(DAY), 150n]);
    });

    it("only the default admin configures or disables it", async function () {
      const f = await loadFixture(guardFixture);
      for (const caller of [f.minterAdmin, f.pauser, f.upgrader, f.minter]) {
        await expect(f.token.connect(caller).configureReserveGuard(f.oracle, DAY, 0))
          .to.be.revertedWithCustomError(f.token, "AccessControlUnauthorizedAccount")
          .withArgs(caller.address, ethers.ZeroHash);
        await expect(f.token.connect(caller).disableReserveGuard())
          .to.be.revertedWithCustomError(f.token, "AccessControlUnauthorizedAccount")
          .withArgs(caller.address, ethers.ZeroHash);
      }
    });

    it("refuses an invalid configuration: no oracle, no code, an oracle that does not answer, zero age, 100% buffer", async function () {
      const f = await loadFixture(guardFixture);
      const notOracle = await (await ethers.getContractFactory("MockERC20")).deploy();
      const cases: [string, number, number][] = [
        [ethers.ZeroAddress, DAY, 0],
        [f.alice.address, DAY, 0],
        [await notOracle.getAddress(), DAY, 0],
        [await f.oracle.getAddress(), 0, 0],
        [await f.oracle.getAddress(), DAY, 10_000],
      ];
      for (const [oracle, age, buffer] of cases) {
        await expect(f.token.connect(f.admin).configureReserveGuard(oracle, age, buffer))
          .to.be.revertedWithCustomError(f.token, "NetDollarInvalidReserveGuard")
          .withArgs(oracle, age, buffer);
      }
    });

    it("refuses an oracle that serves another token (review finding L-01)", async function () {
      const f = await loadFixture(guardFixture);
      const other = f.carol.address;
      const foreign = await (await ethers.getContractFactory("ReserveOracle")).deploy(other, f.admin, 0, []);
      await expect(f.token.connect(f.admin).configureReserveGuard(foreign, DAY, 0))
        .to.be.revertedWithCustomError(f.token, "NetDollarReserveOracleWrongToken")
        .withArgs(await foreign.getAddress(), other);
      // Something that answers latestReserves but cannot say which token it serves is not a reserve oracle.
      await f.oracle.setNoToken(true);
      await expect(f.token.connect(f.admin).configureReserveGuard(f.oracle, DAY, 0))
        .to.be.revertedWithCustomError(f.token, "NetDollarInvalidReserveGuard")
        .withArgs(await f.oracle.getAddress(), DAY, 0);
      const own = await (await ethers.getContractFactory("ReserveOracle")).deploy(await f.token.getAddress(), f.admin, 0, []);
      await expect(f.token.connect(f.admin).configureReserveGuard(own, DAY, 0)).to.emit(f.token, "ReserveGuardConfigured");
    });

    it("is turned off only explicitly, with an event; then mints are unchecked again", async function () {
      const f = await loadFixture(guardFixture);
      await expect(f.token.connect(f.minter).mint(f.carol, 3_001n * USD)).to.be.revertedWithCustomError(f.token, "NetDollarReservesExceeded");
      await expect(f.token.connect(f.admin).disableReserveGuard()).to.emit(f.token, "ReserveGuardDisabled").withArgs(f.admin.address);
      expect(await f.token.reserveGuard()).to.deep.equal([ethers.ZeroAddress, 0n, 0n]);
      await expect(f.token.connect(f.minter).mint(f.carol, 3_001n * USD)).to.emit(f.token, "Mint");
    });

    it("shares its storage word with the pause flag without disturbing it", async function () {
      const f = await loadFixture(guardFixture);
      await f.token.connect(f.pauser).pause();
      await f.token.connect(f.admin).configureReserveGuard(f.oracle, 2 * DAY, 25);
      expect(await f.token.paused()).to.equal(true);
      await f.token.connect(f.pauser).unpause();
      expect(await f.token.reserveGuard()).to.deep.equal([await f.oracle.getAddress(), BigInt(2 * DAY), 25n]);
      await f.token.connect(f.pauser).pause();
      await f.token.connect(f.admin).disableReserveGuard();
      expect(await f.token.paused()).to.equal(true);
      // bits 0-7 pause, 8-167 oracle, 168-199 max age, 200-215 buffer: the word at +7 of the namespace
      await f.token.connect(f.admin).configureReserveGuard(f.oracle, 2 * DAY, 25);
      const location = 0x3ee7e199e8b674f112a815ff5807cf3d67c2ba4dbb2b02de6ba8eeb679a09400n;
      const word = BigInt(await ethers.provider.getStorage(await f.token.getAddress(), location + 7n));
      expect(word).to.equal(1n | (BigInt(await f.oracle.getAddress()) << 8n) | (BigInt(2 * DAY) << 168n) | (25n << 200n));
    });
  });

  describe("mints against attested reserves", function () {
    it("mints up to exactly the reserves and refuses one base unit more, with the figures", async function () {
      const f = await loadFixture(guardFixture);
      const room = 5_000n * USD - 2n * INITIAL_BALANCE;
      await expect(f.token.connect(f.minter).mint(f.carol, room + 1n))
        .to.be.revertedWithCustomError(f.token, "NetDollarReservesExceeded")
        .withArgs(5_000n * USD + 1n, 5_000n * USD, 5_000n * USD);
      await expect(f.token.connect(f.minter).mint(f.carol, room)).to.emit(f.token, "Mint");
      expect(await f.token.totalSupply()).to.equal(5_000n * USD);
      await expect(f.token.connect(f.minter).mint(f.carol, 1n))
        .to.be.revertedWithCustomError(f.token, "NetDollarReservesExceeded")
        .withArgs(5_000n * USD + 1n, 5_000n * USD, 5_000n * USD);
    });

    it("keeps the buffer unminted", async function () {
      const f = await loadFixture(guardFixture);
      await f.token.connect(f.admin).configureReserveGuard(f.oracle, DAY, 100); // 1%
      const allowed = (5_000n * USD * 9_900n) / 10_000n;
      await expect(f.token.connect(f.minter).mint(f.carol, allowed - 2n * INITIAL_BALANCE + 1n))
        .to.be.revertedWithCustomError(f.token, "NetDollarReservesExceeded")
        .withArgs(allowed + 1n, allowed, 5_000n * USD);
      await expect(f.token.connect(f.minter).mint(f.carol, allowed - 2n * INITIAL_BALANCE)).to.emit(f.token, "Mint");
    });

    it("fails closed on a stale attestation: at asOf + maxAge it mints, one second later it refuses", async function () {
      const f = await loadFixture(guardFixture);
      const asOf = (await now()) + 10n;
      await f.oracle.set(5_000n * USD, asOf);
      const limit = asOf + BigInt(DAY);
      await atTimestamp(limit);
      await expect(f.token.connect(f.minter).mint(f.carol, 1n)).to.emit(f.token, "Mint");
      await atTimestamp(limit + 1n);
      await expect(f.token.connect(f.minter).mint(f.carol, 1n))
        .to.be.revertedWithCustomError(f.token, "NetDollarReserveAttestationStale")
        .withArgs(asOf, DAY, limit + 1n);
    });

    it("fails closed without any attestation, and when the oracle does not answer", async function () {
      const f = await loadFixture(guardFixture);
      await f.oracle.set(0n, 0n);
      const t = (await now()) + 5n;
      await atTimestamp(t);
      await expect(f.token.connect(f.minter).mint(f.carol, 1n)).to.be.revertedWithCustomError(f.token, "NetDollarReserveAttestationStale").withArgs(0n, DAY, t);
      await f.oracle.set(5_000n * USD, t);
      await f.oracle.setDown(true);
      await expect(f.token.connect(f.minter).mint(f.carol, 1n)).to.be.revertedWithCustomError(f.oracle, "MockReserveOracleDown");
    });

    it("never stops supply from shrinking: burns and redemptions are not checked", async function () {
      const f = await loadFixture(guardFixture);
      await f.oracle.set(1n, 1n); // stale and far below supply
      await f.token.connect(f.alice).transfer(f.minter, 10n * USD);
      await expect(f.token.connect(f.minter).burn(10n * USD)).to.emit(f.token, "Burn");
      await f.token.connect(f.minterAdmin).grantRole(await f.token.REDEEMER_ROLE(), f.bob);
      await expect(f.token.connect(f.bob).redeem(10n * USD, ethers.ZeroHash)).to.emit(f.token, "Redeemed");
    });

    it("works with the real ReserveOracle and a signed attestation", async function () {
      const f = await loadFixture(tokenV2Fixture);
      const oracle = await (await ethers.getContractFactory("ReserveOracle")).deploy(await f.token.getAddress(), f.admin, 0, [f.other]);
      const data = {
        issuer: "NET Dollar Inc.",
        asOf: (await now()) - 10n,
        deployments: [{ chainId: 31337n, token: await f.token.getAddress(), blockNumber: 1n, outstanding: await f.token.totalSupply() }],
        reserves: 2_500n * USD,
        lines: [{ kind: "cash", custodian: "Bank", amount: 2_500n * USD }],
        accountant: "LLP",
        reportSha256: ethers.ZeroHash,
      };
      await oracle.publish(data, f.other, await signAttestationData(f.other, data));
      await f.token.connect(f.admin).configureReserveGuard(oracle, DAY, 0);
      await expect(f.token.connect(f.minter).mint(f.carol, 500n * USD)).to.emit(f.token, "Mint");
      await expect(f.token.connect(f.minter).mint(f.carol, 1n))
        .to.be.revertedWithCustomError(f.token, "NetDollarReservesExceeded")
        .withArgs(2_500n * USD + 1n, 2_500n * USD, 2_500n * USD);
    });
  });

  describe("upgrade from version 1", function () {
    it("passes the Upgrades plugin's checks against NetDollar", async function () {
      await upgrades.validateUpgrade(await ethers.getContractFactory("NetDollar"), await ethers.getContractFactory("NetDollarV2"), { kind: "uups" });
    });

    it("keeps every balance, allowance, minter, nonce, role and the pause flag; the guard starts off", async function () {
      const f = await loadFixture(tokenFixture);
      await f.token.connect(f.alice).approve(f.bob, 42n);
      await f.token.connect(f.blocklister).blocklist(f.carol);
      await f.token.connect(f.pauser).pause();
      const before = {
        supply: await f.token.totalSupply(),
        alice: await f.token.balanceOf(f.alice),
        minter: await f.token.minterAllowance(f.minter),
      };
      const v2 = (await upgrades.upgradeProxy(await f.token.getAddress(), await ethers.getContractFactory("NetDollarV2", f.upgrader), {
        kind: "uups",
      })) as unknown as NetDollarV2;
      expect(await v2.totalSupply()).to.equal(before.supply);
      expect(await v2.balanceOf(f.alice)).to.equal(before.alice);
      expect(await v2.minterAllowance(f.minter)).to.equal(before.minter);
      expect(await v2.allowance(f.alice, f.bob)).to.equal(42n);
      expect(await v2.isBlocklisted(f.carol)).to.equal(true);
      expect(await v2.paused()).to.equal(true);
      expect(await v2.hasRole(await v2.PAUSER_ROLE(), f.pauser)).to.equal(true);
      expect(await v2.reserveGuard()).to.deep.equal([ethers.ZeroAddress, 0n, 0n]);
      await v2.connect(f.pauser).unpause();
      const oracle = await (await ethers.getContractFactory("MockReserveOracle")).deploy();
      await oracle.set(before.supply + 10n, (await now()) - 1n);
      await v2.connect(f.admin).configureReserveGuard(oracle, DAY, 0);
      await expect(v2.connect(f.minter).mint(f.carol, 1n)).to.be.revertedWithCustomError(v2, "NetDollarBlocklisted").withArgs(f.carol.address);
      await expect(v2.connect(f.minter).mint(f.alice, 11n))
        .to.be.revertedWithCustomError(v2, "NetDollarReservesExceeded")
        .withArgs(before.supply + 11n, before.supply + 10n, before.supply + 10n);
      await expect(v2.connect(f.minter).mint(f.alice, 10n)).to.emit(v2, "Mint");
    });

    it("leaves version 1's own storage positions where they were", async function () {
      const f = await loadFixture(tokenFixture);
      const v2 = (await upgrades.upgradeProxy(await f.token.getAddress(), await ethers.getContractFactory("NetDollarV2", f.upgrader), {
        kind: "uups",
      })) as unknown as NetDollar;
      const location = 0x3ee7e199e8b674f112a815ff5807cf3d67c2ba4dbb2b02de6ba8eeb679a09400n;
      const slot = keccak256(AbiCoder.defaultAbiCoder().encode(["address", "uint256"], [f.alice.address, location]));
      expect(BigInt(await ethers.provider.getStorage(await v2.getAddress(), slot))).to.equal(INITIAL_BALANCE);
      expect(BigInt(await ethers.provider.getStorage(await v2.getAddress(), location + 5n))).to.equal(2n * INITIAL_BALANCE);
    });
  });
});
