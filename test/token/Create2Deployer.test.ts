import { expect } from "chai";
import { ethers } from "hardhat";
import { loadFixture } from "@nomicfoundation/hardhat-network-helpers";
import { getCreate2Address, id, keccak256 } from "ethers";
import { Create2Deployer, ERC1967Proxy__factory, NetDollarV2__factory } from "../../typechain-types";
import { TOKEN_SALTS } from "../../src/deploy/deploy";

describe("Create2Deployer: the token at one address on every chain", function () {
  async function fixture() {
    const [deployer, other] = await ethers.getSigners();
    // From the artifacts, not the typechain factory: coverage instruments the artifacts' bytecode.
    const factory = (await (await ethers.getContractFactory("Create2Deployer", deployer)).deploy()) as unknown as Create2Deployer;
    return { factory, deployer, other };
  }

  it("deploys at the CREATE2 address of (deployer, salt, init code), which computeAddress predicts, and emits Deployed", async function () {
    const { factory } = await loadFixture(fixture);
    const code = NetDollarV2__factory.bytecode;
    const expected = getCreate2Address(await factory.getAddress(), TOKEN_SALTS.implementation, keccak256(code));
    expect(await factory.computeAddress(TOKEN_SALTS.implementation, keccak256(code))).to.equal(expected);
    await expect(factory.deploy(TOKEN_SALTS.implementation, code)).to.emit(factory, "Deployed").withArgs(expected, TOKEN_SALTS.implementation);
    expect(await ethers.provider.getCode(expected))
      .to.equal(await ethers.provider.getCode(expected))
      .and.not.equal("0x");
  });

  it("the same init code under the same salt cannot be deployed twice, by anyone; another salt gives another address", async function () {
    const { factory, other } = await loadFixture(fixture);
    const code = NetDollarV2__factory.bytecode;
    await (await factory.deploy(TOKEN_SALTS.implementation, code)).wait();
    await expect(factory.connect(other).deploy(TOKEN_SALTS.implementation, code)).to.be.revertedWithCustomError(factory, "FailedDeployment");
    const elsewhere = getCreate2Address(await factory.getAddress(), id("another"), keccak256(code));
    await expect(factory.connect(other).deploy(id("another"), code))
      .to.emit(factory, "Deployed")
      .withArgs(elsewhere, id("another"));
  });

  it("a proxy initialized in its init code: front-running it deploys the very same initialized token", async function () {
    const { factory, deployer, other } = await loadFixture(fixture);
    const implementation = getCreate2Address(await factory.getAddress(), TOKEN_SALTS.implementation, keccak256(NetDollarV2__factory.bytecode));
    await (await factory.deploy(TOKEN_SALTS.implementation, NetDollarV2__factory.bytecode)).wait();
    const a = deployer.address;
    const init = NetDollarV2__factory.createInterface().encodeFunctionData("initialize", [
      { symbol: "NETD", adminTransferDelay: 0n, admin: a, minterAdmin: a, pauser: a, blocklister: a, seizer: a, rescuer: a, upgrader: a },
    ]);
    const proxyCode = (await new ERC1967Proxy__factory().getDeployTransaction(implementation, init)).data;
    const proxy = getCreate2Address(await factory.getAddress(), TOKEN_SALTS.proxy, keccak256(proxyCode));
    await (await factory.connect(other).deploy(TOKEN_SALTS.proxy, proxyCode)).wait(); // someone else sends it first
    const token = NetDollarV2__factory.connect(proxy, ethers.provider);
    expect(await token.symbol()).to.equal("NETD");
    expect(await token.hasRole(await token.DEFAULT_ADMIN_ROLE(), a)).to.equal(true);
    expect(await token.hasRole(await token.DEFAULT_ADMIN_ROLE(), other.address)).to.equal(false);
    await expect(
      token.connect(other).initialize({
        symbol: "X",
        adminTransferDelay: 0n,
        admin: other.address,
        minterAdmin: a,
        pauser: a,
        blocklister: a,
        seizer: a,
        rescuer: a,
        upgrader: a,
      }),
    ).to.be.revertedWithCustomError(token, "InvalidInitialization");
  });
});
