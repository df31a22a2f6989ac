import { expect } from "chai";
import { ethers, upgrades } from "hardhat";
import { loadFixture } from "@nomicfoundation/hardhat-network-helpers";
import { ADMIN_DELAY, INITIAL_BALANCE, MINTER_ALLOWANCE, USD, deployNetDollar, initParams, namedAccounts, tokenFixture } from "../helpers/fixtures";
import { shouldBehaveLikeERC20 } from "./behaviors/ERC20.behavior";
import { shouldBehaveLikePermit } from "./behaviors/ERC20Permit.behavior";
import { shouldBehaveLikeERC3009 } from "./behaviors/ERC3009.behavior";

const MAX_AMOUNT = (1n << 255n) - 1n;
const role = (name: string) => ethers.id(name);

describe("NetDollar (behind its UUPS proxy)", function () {
  shouldBehaveLikeERC20(tokenFixture);
  shouldBehaveLikePermit(tokenFixture);
  shouldBehaveLikeERC3009(tokenFixture);

  describe("initialization", function () {
    it("assigns every role to its holder and nothing more", async function () {
      const { token, admin, minterAdmin, pauser, blocklister, seizer, rescuer, upgrader } = await loadFixture(tokenFixture);
      const holders = {
        DEFAULT_ADMIN_ROLE: admin,
        MINTER_ADMIN_ROLE: minterAdmin,
        PAUSER_ROLE: pauser,
        BLOCKLISTER_ROLE: blocklister,
        SEIZER_ROLE: seizer,
        RESCUER_ROLE: rescuer,
        UPGRADER_ROLE: upgrader,
      };
      for (const [name, holder] of Object.entries(holders)) {
        const id = name === "DEFAULT_ADMIN_ROLE" ? ethers.ZeroHash : role(name);
        if (name !== "DEFAULT_ADMIN_ROLE") expect(await token.getFunction(name)()).to.equal(id);
        for (const [, other] of Object.entries(holders)) {
          expect(await token.hasRole(id, other)).to.equal(other === holder, `${name} held by ${other.address}`);
        }
      }
      expect(await token.defaultAdmin()).to.equal(admin.address);
      expect(await token.defaultAdminDelay()).to.equal(ADMIN_DELAY);
      expect(await token.getRoleAdmin(role("REDEEMER_ROLE"))).to.equal(role("MINTER_ADMIN_ROLE"));
      expect(await token.getRoleAdmin(role("PAUSER_ROLE"))).to.equal(ethers.ZeroHash);
    });

    it("blocklists its own address, so tokens cannot be sent to it by mistake", async function () {
      const { token, alice } = await loadFixture(tokenFixture);
      const self = await token.getAddress();
      expect(await token.isBlocklisted(self)).to.equal(true);
      await expect(token.connect(alice).transfer(self, 1n)).to.be.revertedWithCustomError(token, "NetDollarBlocklisted").withArgs(self);
    });

    it("cannot be initialized twice", async function () {
      const f = await loadFixture(tokenFixture);
      await expect(f.token.initialize(initParams(f))).to.be.revertedWithCustomError(f.token, "InvalidInitialization");
    });

    it("cannot be initialized on the implementation itself", async function () {
      const f = await loadFixture(tokenFixture);
      const impl = await ethers.getContractAt("NetDollar", await upgrades.erc1967.getImplementationAddress(await f.token.getAddress()));
      await expect(impl.initialize(initParams(f))).to.be.revertedWithCustomError(impl, "InvalidInitialization");
    });

    it("refuses a zero role holder, naming the role", async function () {
      const accounts = await namedAccounts();
      const factory = await ethers.getContractFactory("NetDollar");
      const impl = await factory.deploy();
      const proxyFactory = await ethers.getContractFactory("ERC1967Proxy");
      const fields = ["minterAdmin", "pauser", "blocklister", "seizer", "rescuer", "upgrader"] as const;
      const roles = ["MINTER_ADMIN_ROLE", "PAUSER_ROLE", "BLOCKLISTER_ROLE", "SEIZER_ROLE", "RESCUER_ROLE", "UPGRADER_ROLE"];
      for (const [i, field] of fields.entries()) {
        const params = { ...initParams(accounts), [field]: ethers.ZeroAddress };
        const data = factory.interface.encodeFunctionData("initialize", [params]);
        await expect(proxyFactory.deploy(impl, data)).to.be.revertedWithCustomError(impl, "NetDollarInvalidRoleHolder").withArgs(role(roles[i]));
      }
      const noAdmin = factory.interface.encodeFunctionData("initialize", [{ ...initParams(accounts), admin: ethers.ZeroAddress }]);
      await expect(proxyFactory.deploy(impl, noAdmin)).to.be.revertedWithCustomError(impl, "AccessControlInvalidDefaultAdmin").withArgs(ethers.ZeroAddress);
      const noSymbol = factory.interface.encodeFunctionData("initialize", [{ ...initParams(accounts), symbol: "" }]);
      await expect(proxyFactory.deploy(impl, noSymbol)).to.be.revertedWithCustomError(impl, "NetDollarEmptySymbol");
    });

    it("takes the symbol given at deployment", async function () {
      const accounts = await namedAccounts();
      const factory = await ethers.getContractFactory("NetDollar");
      const token = await upgrades.deployProxy(factory, [{ ...initParams(accounts), symbol: "tNETD" }], { kind: "uups" });
      expect(await token.getFunction("symbol")()).to.equal("tNETD");
    });

    it("supports the ERC-165 interfaces of its access control", async function () {
      const { token } = await loadFixture(tokenFixture);
      expect(await token.supportsInterface("0x01ffc9a7")).to.equal(true); // ERC-165
      expect(await token.supportsInterface("0x7965db0b")).to.equal(true); // IAccessControl
      expect(await token.supportsInterface("0x31498786")).to.equal(true); // IAccessControlDefaultAdminRules
      expect(await token.supportsInterface("0xffffffff")).to.equal(false);
    });
  });

  describe("minters", function () {
    it("configureMinter sets the allowance and emits MinterConfigured", async function () {
      const { token, minterAdmin, carol } = await loadFixture(tokenFixture);
      expect(await token.isMinter(carol)).to.equal(false);
      await expect(token.connect(minterAdmin).configureMinter(carol, 50n * USD))
        .to.emit(token, "MinterConfigured")
        .withArgs(carol.address, 50n * USD);
      expect(await token.isMinter(carol)).to.equal(true);
      expect(await token.minterAllowance(carol)).to.equal(50n * USD);
      await token.connect(minterAdmin).configureMinter(carol, 0n);
      expect(await token.isMinter(carol)).to.equal(true);
      expect(await token.minterAllowance(carol)).to.equal(0n);
    });

    it("configureMinter accepts the largest allowance and refuses one above it", async function () {
      const { token, minterAdmin, carol } = await loadFixture(tokenFixture);
      await token.connect(minterAdmin).configureMinter(carol, MAX_AMOUNT);
      expect(await token.minterAllowance(carol)).to.equal(MAX_AMOUNT);
      await expect(token.connect(minterAdmin).configureMinter(carol, MAX_AMOUNT + 1n))
        .to.be.revertedWithCustomError(token, "NetDollarMinterAllowanceTooLarge")
        .withArgs(MAX_AMOUNT + 1n, MAX_AMOUNT);
      await expect(token.connect(minterAdmin).configureMinter(ethers.ZeroAddress, 1n)).to.be.revertedWithCustomError(token, "NetDollarZeroAddress");
    });

    it("removeMinter takes away minting and burning and emits MinterRemoved", async function () {
      const { token, minterAdmin, minter, alice } = await loadFixture(tokenFixture);
      await expect(token.connect(minterAdmin).removeMinter(minter)).to.emit(token, "MinterRemoved").withArgs(minter.address);
      expect(await token.isMinter(minter)).to.equal(false);
      expect(await token.minterAllowance(minter)).to.equal(0n);
      await expect(token.connect(minter).mint(alice, 1n)).to.be.revertedWithCustomError(token, "NetDollarNotMinter").withArgs(minter.address);
      await expect(token.connect(minter).burn(1n)).to.be.revertedWithCustomError(token, "NetDollarNotMinter").withArgs(minter.address);
    });
  });

  describe("mint", function () {
    it("mints, spends the minter's allowance and emits Transfer and Mint", async function () {
      const { token, minter, carol } = await loadFixture(tokenFixture);
      const supply = await token.totalSupply();
      const allowance = await token.minterAllowance(minter);
      const tx = token.connect(minter).mint(carol, 25n * USD);
      await expect(tx)
        .to.emit(token, "Transfer")
        .withArgs(ethers.ZeroAddress, carol.address, 25n * USD);
      await expect(tx)
        .to.emit(token, "Mint")
        .withArgs(minter.address, carol.address, 25n * USD);
      expect(await token.balanceOf(carol)).to.equal(25n * USD);
      expect(await token.totalSupply()).to.equal(supply + 25n * USD);
      expect(await token.minterAllowance(minter)).to.equal(allowance - 25n * USD);
      expect(await token.connect(minter).mint.staticCall(carol, 1n)).to.equal(true);
    });

    it("mints exactly the allowance left and refuses one unit more, naming the figures", async function () {
      const { token, minterAdmin, minter, carol } = await loadFixture(tokenFixture);
      await token.connect(minterAdmin).configureMinter(minter, 10n * USD);
      await expect(token.connect(minter).mint(carol, 10n * USD + 1n))
        .to.be.revertedWithCustomError(token, "NetDollarMinterAllowanceExceeded")
        .withArgs(minter.address, 10n * USD, 10n * USD + 1n);
      await token.connect(minter).mint(carol, 10n * USD);
      expect(await token.minterAllowance(minter)).to.equal(0n);
      expect(await token.isMinter(minter)).to.equal(true);
      await expect(token.connect(minter).mint(carol, 1n))
        .to.be.revertedWithCustomError(token, "NetDollarMinterAllowanceExceeded")
        .withArgs(minter.address, 0n, 1n);
    });

    it("refuses a caller that is not a minter", async function () {
      const { token, minterAdmin, carol } = await loadFixture(tokenFixture);
      await expect(token.connect(minterAdmin).mint(carol, 1n)).to.be.revertedWithCustomError(token, "NetDollarNotMinter").withArgs(minterAdmin.address);
    });

    it("refuses zero, the zero address, a blocklisted receiver or minter, and a paused token", async function () {
      const { token, minter, blocklister, pauser, carol } = await loadFixture(tokenFixture);
      await expect(token.connect(minter).mint(carol, 0n)).to.be.revertedWithCustomError(token, "NetDollarZeroAmount");
      await expect(token.connect(minter).mint(ethers.ZeroAddress, 1n))
        .to.be.revertedWithCustomError(token, "ERC20InvalidReceiver")
        .withArgs(ethers.ZeroAddress);
      await token.connect(blocklister).blocklist(carol);
      await expect(token.connect(minter).mint(carol, 1n)).to.be.revertedWithCustomError(token, "NetDollarBlocklisted").withArgs(carol.address);
      await token.connect(blocklister).unblocklist(carol);
      await token.connect(blocklister).blocklist(minter);
      await expect(token.connect(minter).mint(carol, 1n)).to.be.revertedWithCustomError(token, "NetDollarBlocklisted").withArgs(minter.address);
      await token.connect(blocklister).unblocklist(minter);
      await token.connect(pauser).pause();
      await expect(token.connect(minter).mint(carol, 1n)).to.be.revertedWithCustomError(token, "NetDollarPaused");
      expect(await token.minterAllowance(minter)).to.equal(MINTER_ALLOWANCE - 2n * INITIAL_BALANCE);
    });

    it("keeps the supply below 2^255, so no balance can reach the blocklist bit", async function () {
      const { token, minterAdmin, minter, carol } = await loadFixture(tokenFixture);
      await token.connect(minterAdmin).configureMinter(minter, MAX_AMOUNT);
      const supply = await token.totalSupply();
      await expect(token.connect(minter).mint(carol, MAX_AMOUNT - supply + 1n))
        .to.be.revertedWithCustomError(token, "NetDollarSupplyCapExceeded")
        .withArgs(supply, MAX_AMOUNT - supply + 1n, MAX_AMOUNT);
      await token.connect(minter).mint(carol, MAX_AMOUNT - supply);
      expect(await token.totalSupply()).to.equal(MAX_AMOUNT);
      expect(await token.balanceOf(carol)).to.equal(MAX_AMOUNT - supply);
      expect(await token.isBlocklisted(carol)).to.equal(false);
    });
  });

  describe("burn", function () {
    it("burns the minter's own balance and emits Transfer and Burn", async function () {
      const { token, minter, alice } = await loadFixture(tokenFixture);
      await token.connect(alice).transfer(minter, 10n * USD);
      const supply = await token.totalSupply();
      const tx = token.connect(minter).burn(4n * USD);
      await expect(tx)
        .to.emit(token, "Transfer")
        .withArgs(minter.address, ethers.ZeroAddress, 4n * USD);
      await expect(tx)
        .to.emit(token, "Burn")
        .withArgs(minter.address, 4n * USD);
      expect(await token.balanceOf(minter)).to.equal(6n * USD);
      expect(await token.totalSupply()).to.equal(supply - 4n * USD);
    });

    it("refuses more than the balance, zero, a blocklisted minter and a paused token", async function () {
      const { token, minter, alice, blocklister, pauser } = await loadFixture(tokenFixture);
      await token.connect(alice).transfer(minter, 10n * USD);
      await expect(token.connect(minter).burn(10n * USD + 1n))
        .to.be.revertedWithCustomError(token, "ERC20InsufficientBalance")
        .withArgs(minter.address, 10n * USD, 10n * USD + 1n);
      await expect(token.connect(minter).burn(0n)).to.be.revertedWithCustomError(token, "NetDollarZeroAmount");
      await token.connect(blocklister).blocklist(minter);
      await expect(token.connect(minter).burn(1n)).to.be.revertedWithCustomError(token, "NetDollarBlocklisted").withArgs(minter.address);
      await token.connect(blocklister).unblocklist(minter);
      await token.connect(pauser).pause();
      await expect(token.connect(minter).burn(1n)).to.be.revertedWithCustomError(token, "NetDollarPaused");
    });

    it("refuses a holder that is not a minter", async function () {
      const { token, alice } = await loadFixture(tokenFixture);
      await expect(token.connect(alice).burn(1n)).to.be.revertedWithCustomError(token, "NetDollarNotMinter").withArgs(alice.address);
    });
  });

  describe("redeem", function () {
    async function redeemerFixture() {
      const f = await tokenFixture();
      await f.token.connect(f.minterAdmin).grantRole(role("REDEEMER_ROLE"), f.alice);
      return f;
    }
    const ref = ethers.id("payout-2026-0001");

    it("burns from the redeemer and emits Transfer and Redeemed with the reference", async function () {
      const { token, alice } = await loadFixture(redeemerFixture);
      const supply = await token.totalSupply();
      const tx = token.connect(alice).redeem(100n * USD, ref);
      await expect(tx)
        .to.emit(token, "Transfer")
        .withArgs(alice.address, ethers.ZeroAddress, 100n * USD);
      await expect(tx)
        .to.emit(token, "Redeemed")
        .withArgs(alice.address, 100n * USD, ref);
      expect(await token.balanceOf(alice)).to.equal(INITIAL_BALANCE - 100n * USD);
      expect(await token.totalSupply()).to.equal(supply - 100n * USD);
    });

    it("is open only to holders the minter admin approved", async function () {
      const { token, bob, admin, minterAdmin } = await loadFixture(redeemerFixture);
      await expect(token.connect(bob).redeem(1n, ref))
        .to.be.revertedWithCustomError(token, "AccessControlUnauthorizedAccount")
        .withArgs(bob.address, role("REDEEMER_ROLE"));
      await expect(token.connect(admin).grantRole(role("REDEEMER_ROLE"), bob))
        .to.be.revertedWithCustomError(token, "AccessControlUnauthorizedAccount")
        .withArgs(admin.address, role("MINTER_ADMIN_ROLE"));
      await token.connect(minterAdmin).grantRole(role("REDEEMER_ROLE"), bob);
      await expect(token.connect(bob).redeem(1n, ref)).to.emit(token, "Redeemed");
    });

    it("refuses more than the balance, zero, a blocklisted redeemer and a paused token", async function () {
      const { token, alice, blocklister, pauser } = await loadFixture(redeemerFixture);
      await expect(token.connect(alice).redeem(INITIAL_BALANCE + 1n, ref))
        .to.be.revertedWithCustomError(token, "ERC20InsufficientBalance")
        .withArgs(alice.address, INITIAL_BALANCE, INITIAL_BALANCE + 1n);
      await expect(token.connect(alice).redeem(0n, ref)).to.be.revertedWithCustomError(token, "NetDollarZeroAmount");
      await token.connect(blocklister).blocklist(alice);
      await expect(token.connect(alice).redeem(1n, ref)).to.be.revertedWithCustomError(token, "NetDollarBlocklisted").withArgs(alice.address);
      await token.connect(blocklister).unblocklist(alice);
      await token.connect(pauser).pause();
      await expect(token.connect(alice).redeem(1n, ref)).to.be.revertedWithCustomError(token, "NetDollarPaused");
    });
  });

  describe("pause", function () {
    it("pause and unpause emit events and refuse to repeat themselves", async function () {
      const { token, pauser } = await loadFixture(tokenFixture);
      await expect(token.connect(pauser).unpause()).to.be.revertedWithCustomError(token, "NetDollarNotPaused");
      await expect(token.connect(pauser).pause()).to.emit(token, "Paused").withArgs(pauser.address);
      expect(await token.paused()).to.equal(true);
      await expect(token.connect(pauser).pause()).to.be.revertedWithCustomError(token, "NetDollarPaused");
      await expect(token.connect(pauser).unpause()).to.emit(token, "Unpaused").withArgs(pauser.address);
      expect(await token.paused()).to.equal(false);
    });

    it("stops transfer and transferFrom, and leaves approve working", async function () {
      const { token, pauser, alice, bob, carol } = await loadFixture(tokenFixture);
      await token.connect(alice).approve(bob, 10n);
      await token.connect(pauser).pause();
      await expect(token.connect(alice).transfer(carol, 1n)).to.be.revertedWithCustomError(token, "NetDollarPaused");
      await expect(token.connect(bob).transferFrom(alice, carol, 1n)).to.be.revertedWithCustomError(token, "NetDollarPaused");
      await expect(token.connect(alice).approve(bob, 5n)).to.emit(token, "Approval");
      await token.connect(pauser).unpause();
      await expect(token.connect(alice).transfer(carol, 1n)).to.changeTokenBalances(token, [alice, carol], [-1n, 1n]);
    });
  });

  describe("blocklist", function () {
    it("blocklist and unblocklist emit events and keep the balance intact", async function () {
      const { token, blocklister, alice } = await loadFixture(tokenFixture);
      const supply = await token.totalSupply();
      await expect(token.connect(blocklister).blocklist(alice)).to.emit(token, "Blocklisted").withArgs(alice.address);
      expect(await token.isBlocklisted(alice)).to.equal(true);
      expect(await token.balanceOf(alice)).to.equal(INITIAL_BALANCE);
      expect(await token.totalSupply()).to.equal(supply);
      await expect(token.connect(blocklister).unblocklist(alice)).to.emit(token, "Unblocklisted").withArgs(alice.address);
      expect(await token.isBlocklisted(alice)).to.equal(false);
      expect(await token.balanceOf(alice)).to.equal(INITIAL_BALANCE);
    });

    it("a blocklisted account cannot send, receive, or spend an allowance", async function () {
      const { token, blocklister, alice, bob, carol } = await loadFixture(tokenFixture);
      await token.connect(alice).approve(carol, 100n);
      await token.connect(bob).approve(carol, 100n);
      await token.connect(blocklister).blocklist(alice);
      await expect(token.connect(alice).transfer(bob, 1n)).to.be.revertedWithCustomError(token, "NetDollarBlocklisted").withArgs(alice.address);
      await expect(token.connect(bob).transfer(alice, 1n)).to.be.revertedWithCustomError(token, "NetDollarBlocklisted").withArgs(alice.address);
      await expect(token.connect(carol).transferFrom(alice, bob, 1n))
        .to.be.revertedWithCustomError(token, "NetDollarBlocklisted")
        .withArgs(alice.address);
      await expect(token.connect(carol).transferFrom(bob, alice, 1n))
        .to.be.revertedWithCustomError(token, "NetDollarBlocklisted")
        .withArgs(alice.address);
      await token.connect(blocklister).blocklist(carol);
      await expect(token.connect(carol).transferFrom(bob, alice, 1n))
        .to.be.revertedWithCustomError(token, "NetDollarBlocklisted")
        .withArgs(carol.address);
      expect(await token.allowance(bob, carol)).to.equal(100n);
    });

    it("approve works for blocklisted accounts (it moves no value; spending it is checked)", async function () {
      const { token, blocklister, alice, bob } = await loadFixture(tokenFixture);
      await token.connect(blocklister).blocklist(alice);
      await expect(token.connect(alice).approve(bob, 5n)).to.emit(token, "Approval").withArgs(alice.address, bob.address, 5n);
      await expect(token.connect(bob).transferFrom(alice, bob, 5n))
        .to.be.revertedWithCustomError(token, "NetDollarBlocklisted")
        .withArgs(alice.address);
    });
  });

  describe("seize", function () {
    it("burns the whole balance of a blocklisted account and emits Transfer and Seized", async function () {
      const { token, blocklister, seizer, alice } = await loadFixture(tokenFixture);
      await token.connect(blocklister).blocklist(alice);
      const supply = await token.totalSupply();
      expect(await token.connect(seizer).seize.staticCall(alice)).to.equal(INITIAL_BALANCE);
      const tx = token.connect(seizer).seize(alice);
      await expect(tx).to.emit(token, "Transfer").withArgs(alice.address, ethers.ZeroAddress, INITIAL_BALANCE);
      await expect(tx).to.emit(token, "Seized").withArgs(alice.address, seizer.address, INITIAL_BALANCE);
      expect(await token.balanceOf(alice)).to.equal(0n);
      expect(await token.isBlocklisted(alice)).to.equal(true);
      expect(await token.totalSupply()).to.equal(supply - INITIAL_BALANCE);
    });

    it("refuses an account that is not blocklisted, and a paused token", async function () {
      const { token, blocklister, seizer, pauser, alice } = await loadFixture(tokenFixture);
      await expect(token.connect(seizer).seize(alice)).to.be.revertedWithCustomError(token, "NetDollarNotBlocklisted").withArgs(alice.address);
      await token.connect(blocklister).blocklist(alice);
      await token.connect(pauser).pause();
      await expect(token.connect(seizer).seize(alice)).to.be.revertedWithCustomError(token, "NetDollarPaused");
      expect(await token.balanceOf(alice)).to.equal(INITIAL_BALANCE);
    });
  });

  describe("rescueERC20", function () {
    it("sends another token held by the contract to the given address and emits TokensRescued", async function () {
      const { token, rescuer, carol } = await loadFixture(tokenFixture);
      const mock = await (await ethers.getContractFactory("MockERC20")).deploy();
      await mock.mint(await token.getAddress(), 500n);
      await expect(token.connect(rescuer).rescueERC20(mock, carol, 300n))
        .to.emit(token, "TokensRescued")
        .withArgs(await mock.getAddress(), carol.address, 300n);
      expect(await mock.balanceOf(carol)).to.equal(300n);
      expect(await mock.balanceOf(await token.getAddress())).to.equal(200n);
    });

    it("refuses the zero address and more than is held", async function () {
      const { token, rescuer, carol } = await loadFixture(tokenFixture);
      const mock = await (await ethers.getContractFactory("MockERC20")).deploy();
      await mock.mint(await token.getAddress(), 5n);
      await expect(token.connect(rescuer).rescueERC20(mock, ethers.ZeroAddress, 1n)).to.be.revertedWithCustomError(token, "NetDollarZeroAddress");
      await expect(token.connect(rescuer).rescueERC20(mock, carol, 6n))
        .to.be.revertedWithCustomError(mock, "ERC20InsufficientBalance")
        .withArgs(await token.getAddress(), 5n, 6n);
    });
  });

  describe("role separation", function () {
    // Every role-gated function, called by every role holder that is not its own: each is refused, naming the role.
    const gated: { fn: string; role: string; args: (f: Awaited<ReturnType<typeof tokenFixture>>) => unknown[] }[] = [
      { fn: "configureMinter", role: "MINTER_ADMIN_ROLE", args: (f) => [f.carol.address, 1n] },
      { fn: "removeMinter", role: "MINTER_ADMIN_ROLE", args: (f) => [f.minter.address] },
      { fn: "pause", role: "PAUSER_ROLE", args: () => [] },
      { fn: "unpause", role: "PAUSER_ROLE", args: () => [] },
      { fn: "blocklist", role: "BLOCKLISTER_ROLE", args: (f) => [f.carol.address] },
      { fn: "unblocklist", role: "BLOCKLISTER_ROLE", args: (f) => [f.carol.address] },
      { fn: "seize", role: "SEIZER_ROLE", args: (f) => [f.carol.address] },
      { fn: "rescueERC20", role: "RESCUER_ROLE", args: (f) => [f.alice.address, f.carol.address, 1n] },
      { fn: "upgradeToAndCall", role: "UPGRADER_ROLE", args: (f) => [f.carol.address, "0x"] },
      { fn: "redeem", role: "REDEEMER_ROLE", args: () => [1n, ethers.ZeroHash] },
    ];
    const holderOf: Record<string, string> = {
      MINTER_ADMIN_ROLE: "minterAdmin",
      PAUSER_ROLE: "pauser",
      BLOCKLISTER_ROLE: "blocklister",
      SEIZER_ROLE: "seizer",
      RESCUER_ROLE: "rescuer",
      UPGRADER_ROLE: "upgrader",
      REDEEMER_ROLE: "",
    };

    for (const { fn, role: roleName, args } of gated) {
      it(`${fn} needs ${roleName} and nothing else grants it`, async function () {
        const f = await loadFixture(tokenFixture);
        const callers = ["admin", "minterAdmin", "pauser", "blocklister", "seizer", "rescuer", "upgrader", "minter", "alice"] as const;
        for (const name of callers) {
          if (name === holderOf[roleName]) continue;
          const caller = f[name];
          await expect(f.token.connect(caller).getFunction(fn)(...args(f)))
            .to.be.revertedWithCustomError(f.token, "AccessControlUnauthorizedAccount")
            .withArgs(caller.address, role(roleName));
        }
      });
    }

    it("only the default admin grants and revokes the operational roles", async function () {
      const { token, admin, pauser, carol } = await loadFixture(tokenFixture);
      await expect(token.connect(pauser).grantRole(role("PAUSER_ROLE"), carol))
        .to.be.revertedWithCustomError(token, "AccessControlUnauthorizedAccount")
        .withArgs(pauser.address, ethers.ZeroHash);
      await expect(token.connect(admin).grantRole(role("PAUSER_ROLE"), carol))
        .to.emit(token, "RoleGranted")
        .withArgs(role("PAUSER_ROLE"), carol.address, admin.address);
      await expect(token.connect(carol).pause()).to.emit(token, "Paused");
      await expect(token.connect(admin).revokeRole(role("PAUSER_ROLE"), carol))
        .to.emit(token, "RoleRevoked")
        .withArgs(role("PAUSER_ROLE"), carol.address, admin.address);
    });

    it("the default admin is transferred in two steps, after the delay", async function () {
      const { token, admin, carol } = await loadFixture(tokenFixture);
      await expect(token.connect(admin).grantRole(ethers.ZeroHash, carol)).to.be.revertedWithCustomError(token, "AccessControlEnforcedDefaultAdminRules");
      await token.connect(admin).beginDefaultAdminTransfer(carol);
      const [, schedule] = await token.pendingDefaultAdmin();
      await expect(token.connect(carol).acceptDefaultAdminTransfer())
        .to.be.revertedWithCustomError(token, "AccessControlEnforcedDefaultAdminDelay")
        .withArgs(schedule);
      await ethers.provider.send("evm_setNextBlockTimestamp", [Number(schedule) + 1]);
      await token.connect(carol).acceptDefaultAdminTransfer();
      expect(await token.defaultAdmin()).to.equal(carol.address);
      expect(await token.hasRole(ethers.ZeroHash, admin)).to.equal(false);
    });
  });

  it("deploys with different accounts for each role from the shared helper", async function () {
    const accounts = await namedAccounts();
    const token = await deployNetDollar(accounts);
    expect(await token.hasRole(role("UPGRADER_ROLE"), accounts.upgrader)).to.equal(true);
  });
});
