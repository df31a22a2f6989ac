import { expect } from "chai";
import { ethers, upgrades } from "hardhat";
import { loadFixture } from "@nomicfoundation/hardhat-network-helpers";
import { AbiCoder, keccak256, toBeHex } from "ethers";
import type { NetDollar, NetDollarNextMock } from "../../typechain-types";
import { INITIAL_BALANCE, MINTER_ALLOWANCE, USD, tokenFixture, type TokenFixture } from "../helpers/fixtures";
import { buildAuthorization, signPermit, signTransferAuthorization } from "../../src/eip712";
import { now } from "../helpers/time";
import { submitPermit, submitTransferWithAuthorization } from "../../src/token/authorizations";
import { shouldBehaveLikeERC20 } from "./behaviors/ERC20.behavior";
import { shouldBehaveLikePermit } from "./behaviors/ERC20Permit.behavior";
import { shouldBehaveLikeERC3009 } from "./behaviors/ERC3009.behavior";

/** keccak256(abi.encode(uint256(keccak256("netdollar.storage.NetDollar")) - 1)) & ~bytes32(uint256(0xff)) */
const LOCATION = 0x3ee7e199e8b674f112a815ff5807cf3d67c2ba4dbb2b02de6ba8eeb679a09400n;
const coder = AbiCoder.defaultAbiCoder();
const mappingSlot = (key: string, slot: bigint | string, keyType = "address") => keccak256(coder.encode([keyType, "uint256"], [key, slot]));
const BLOCKLISTED = 1n << 255n;

async function upgradeToV2(f: TokenFixture): Promise<NetDollarNextMock> {
  const factory = await ethers.getContractFactory("NetDollarNextMock", f.upgrader);
  const upgraded = await upgrades.upgradeProxy(await f.token.getAddress(), factory, {
    kind: "uups",
    call: { fn: "initializeV2", args: [7n] },
  });
  return upgraded as unknown as NetDollarNextMock;
}

/** The standard fixture, upgraded to the next-version mock: the shared behaviour suites must pass on it unchanged. */
async function upgradedFixture(): Promise<TokenFixture> {
  const f = await tokenFixture();
  const token = await upgradeToV2(f);
  return { ...f, token: token as unknown as NetDollar };
}

describe("NetDollar upgrades", function () {
  it("the implementation passes the Upgrades plugin's safety checks", async function () {
    await upgrades.validateImplementation(await ethers.getContractFactory("NetDollar"), { kind: "uups" });
    await upgrades.validateUpgrade(await ethers.getContractFactory("NetDollar"), await ethers.getContractFactory("NetDollarNextMock"), { kind: "uups" });
  });

  describe("to a compatible next version, all state survives", function () {
    async function statefulFixture() {
      const f = await tokenFixture();
      const { token, alice, bob, carol, minter, minterAdmin, blocklister, pauser, domain } = f;
      await token.connect(alice).approve(bob, 77n);
      await token.connect(minterAdmin).configureMinter(carol, 5n * USD);
      await token.connect(minterAdmin).grantRole(await token.REDEEMER_ROLE(), bob);
      const permit = { owner: bob.address, spender: carol.address, value: 9n, nonce: 0n, deadline: (await now()) + 999n };
      const p = await signPermit(bob, domain, permit);
      await submitPermit(token, permit, p);
      const auth = buildAuthorization({ from: alice.address, to: carol.address, value: 2n * USD, validForSeconds: 600, now: await now() });
      const a = await signTransferAuthorization(alice, domain, auth);
      await submitTransferWithAuthorization(token, auth, a);
      await token.connect(blocklister).blocklist(f.other);
      await token.connect(pauser).pause();
      const before = {
        balances: await Promise.all([alice, bob, carol, minter].map((s) => token.balanceOf(s))),
        supply: await token.totalSupply(),
        implementation: await upgrades.erc1967.getImplementationAddress(await token.getAddress()),
      };
      return { ...f, auth, before };
    }

    it("keeps balances, supply, allowances, minters, nonces, used authorizations, blocklist, pause and roles", async function () {
      const f = await loadFixture(statefulFixture);
      const v2 = await upgradeToV2(f);
      const { alice, bob, carol, minter, other } = f;
      expect(await upgrades.erc1967.getImplementationAddress(await v2.getAddress())).to.not.equal(f.before.implementation);
      expect(await Promise.all([alice, bob, carol, minter].map((s) => v2.balanceOf(s)))).to.deep.equal(f.before.balances);
      expect(await v2.totalSupply()).to.equal(f.before.supply);
      expect(await v2.allowance(alice, bob)).to.equal(77n);
      expect(await v2.allowance(bob, carol)).to.equal(9n);
      expect(await v2.minterAllowance(minter)).to.equal(MINTER_ALLOWANCE - 2n * INITIAL_BALANCE);
      expect(await v2.minterAllowance(carol)).to.equal(5n * USD);
      expect(await v2.isMinter(carol)).to.equal(true);
      expect(await v2.nonces(bob)).to.equal(1n);
      expect(await v2.authorizationState(alice, f.auth.nonce)).to.equal(true);
      expect(await v2.isBlocklisted(other)).to.equal(true);
      expect(await v2.isBlocklisted(await v2.getAddress())).to.equal(true);
      expect(await v2.paused()).to.equal(true);
      expect(await v2.symbol()).to.equal("NETD");
      expect(await v2.hasRole(await v2.REDEEMER_ROLE(), bob)).to.equal(true);
      expect(await v2.hasRole(await v2.UPGRADER_ROLE(), f.upgrader)).to.equal(true);
      expect(await v2.defaultAdmin()).to.equal(f.admin.address);
      // and the new version's own storage works without touching the old
      await v2.connect(f.upgrader).setMarker(42n);
      expect(await v2.marker()).to.equal(42n);
      expect(await v2.totalSupply()).to.equal(f.before.supply);
    });
  });

  it("the Upgrades plugin refuses a version whose storage layout is incompatible", async function () {
    const f = await loadFixture(tokenFixture);
    const bad = await ethers.getContractFactory("NetDollarBadLayoutMock", f.upgrader);
    await expect(upgrades.upgradeProxy(await f.token.getAddress(), bad, { kind: "uups" })).to.be.rejectedWith(/New storage layout is incompatible/);
    await expect(upgrades.validateUpgrade(await ethers.getContractFactory("NetDollar"), bad, { kind: "uups" })).to.be.rejectedWith(/Inserted `feeBps`/);
  });

  it("refuses, on-chain, an upgrade to a contract that is not UUPS", async function () {
    const f = await loadFixture(tokenFixture);
    const notUups = await (await ethers.getContractFactory("MockERC20")).deploy();
    await expect(f.token.connect(f.upgrader).upgradeToAndCall(notUups, "0x"))
      .to.be.revertedWithCustomError(f.token, "ERC1967InvalidImplementation")
      .withArgs(await notUups.getAddress());
  });

  describe("storage layout (regression: these positions must never move)", function () {
    it("keeps every member of the ERC-7201 namespace at its slot", async function () {
      const f = await loadFixture(tokenFixture);
      const { token, alice, bob, minter, pauser, blocklister } = f;
      const address = await token.getAddress();
      const read = (slot: string | bigint) => ethers.provider.getStorage(address, slot);
      await token.connect(alice).approve(bob, 1234n);
      await token.connect(blocklister).blocklist(bob);
      const auth = buildAuthorization({ from: alice.address, to: minter.address, value: 1n, validForSeconds: 600, now: await now() });
      const a = await signTransferAuthorization(alice, f.domain, auth);
      await submitTransferWithAuthorization(token, auth, a);
      const permit = { owner: alice.address, spender: bob.address, value: 1n, nonce: 0n, deadline: (await now()) + 999n };
      const p = await signPermit(alice, f.domain, permit);
      await submitPermit(token, permit, p);
      await token.connect(pauser).pause();

      // +0 balanceAndBlocklistState: balance in bits 0-254, blocklisted in bit 255
      expect(BigInt(await read(mappingSlot(alice.address, LOCATION)))).to.equal(INITIAL_BALANCE - 1n);
      expect(BigInt(await read(mappingSlot(bob.address, LOCATION)))).to.equal(BLOCKLISTED | INITIAL_BALANCE);
      // +1 allowances[owner][spender] (the permit replaced alice's approval of bob)
      expect(BigInt(await read(mappingSlot(bob.address, mappingSlot(alice.address, LOCATION + 1n))))).to.equal(1n);
      // +2 minterState: allowance in bits 0-254, is-minter in bit 255
      expect(BigInt(await read(mappingSlot(minter.address, LOCATION + 2n)))).to.equal(BLOCKLISTED | (MINTER_ALLOWANCE - 2n * INITIAL_BALANCE));
      // +3 authorizationStates[authorizer][nonce]
      expect(BigInt(await read(mappingSlot(auth.nonce, mappingSlot(alice.address, LOCATION + 3n), "bytes32")))).to.equal(1n);
      // +4 nonces
      expect(BigInt(await read(mappingSlot(alice.address, LOCATION + 4n)))).to.equal(1n);
      // +5 totalSupply
      expect(BigInt(await read(LOCATION + 5n))).to.equal(await token.totalSupply());
      // +6 symbol (short string: bytes left-aligned, length * 2 in the last byte)
      expect(await read(LOCATION + 6n)).to.equal(toBeHex((BigInt(ethers.hexlify(ethers.toUtf8Bytes("NETD"))) << 224n) | 8n, 32));
      // +7 paused (last member: later versions pack more configuration into this slot)
      expect(BigInt(await read(LOCATION + 7n))).to.equal(1n);
    });
  });

  describe("after an upgrade, the shared behaviour is unchanged", function () {
    shouldBehaveLikeERC20(upgradedFixture);
    shouldBehaveLikePermit(upgradedFixture);
    shouldBehaveLikeERC3009(upgradedFixture);
  });
});
