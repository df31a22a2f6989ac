import { expect } from "chai";
import { ethers } from "hardhat";
import { loadFixture } from "@nomicfoundation/hardhat-network-helpers";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import type { Filter, Log, Provider } from "ethers";
import { tokenFixture, USD } from "../helpers/fixtures";
import { DESCRIBED_ERRORS, toNetDollarError } from "../../src/decode";
import {
  BatchSettlement__factory,
  ConditionalEscrow__factory,
  ERC3009DepositCollector__factory,
  NetDollarV2__factory,
  ReserveOracle__factory,
  RevenueSplitFactory__factory,
  RevenueSplit__factory,
} from "../../typechain-types";
import { ChainRefusedError, ChainUnreachableError, ConfigurationError } from "../../src/errors";
import { readDeployment, readDeploymentFor, writeDeployment, type Deployment } from "../../src/deployments";
import { scanLogs } from "../../src/logs";
import { parseRole, roleLabel } from "../../src/roles";
import { resolveRoleHolders } from "../../src/deploy/deploy";
import { loadWallet } from "../../src/keys";
import { simulateAndSend } from "../../src/tx";
import { pollingIntervalFor } from "../../src/provider";
import { readReservesInput } from "../../src/attestation/document";
import { buildAuthorization, readTokenDomain, recoverAuthorizationSigner, signTransferAuthorization } from "../../src/eip712";
import { parseAuthorizationDocument, toAuthorizationDocument } from "../../src/token/authorizationDocument";

describe("library (src/)", function () {
  describe("revert decoding", function () {
    it("turns the token's custom errors into plain words with the figures", async function () {
      const { token, minter, minterAdmin, carol } = await loadFixture(tokenFixture);
      await token.connect(minterAdmin).configureMinter(minter, 10n * USD);
      const error = await token
        .connect(minter)
        .mint.staticCall(carol, 25n * USD)
        .catch((e: unknown) => e);
      const decoded = toNetDollarError(error);
      expect(decoded).to.be.instanceOf(ChainRefusedError);
      expect(decoded.shortMessage).to.equal(
        `minter ${minter.address.slice(0, 6)}…${minter.address.slice(-4)} has an allowance of 10.00 NETD; minting 25.00 needs 15.00 more`,
      );
      expect((decoded as ChainRefusedError).errorName).to.equal("NetDollarMinterAllowanceExceeded");
    });

    it("names the missing role", async function () {
      const { token, alice } = await loadFixture(tokenFixture);
      const error = await token
        .connect(alice)
        .pause.staticCall()
        .catch((e: unknown) => e);
      expect(toNetDollarError(error).shortMessage).to.match(/^0x\w{4}…\w{4} does not hold PAUSER_ROLE$/);
    });

    it("every custom error in the ABIs of the contracts we call has plain words, and each is decoded from its selector", async function () {
      const factories = [
        NetDollarV2__factory,
        ConditionalEscrow__factory,
        ReserveOracle__factory,
        BatchSettlement__factory,
        ERC3009DepositCollector__factory,
        RevenueSplit__factory,
        RevenueSplitFactory__factory,
      ];
      const missing: string[] = [];
      for (const factory of factories) {
        const iface = factory.createInterface();
        iface.forEachError((fragment) => {
          if (!DESCRIBED_ERRORS.has(fragment.name)) missing.push(`${fragment.format("sighash")} (${factory.name.replace("__factory", "")})`);
          // A revert carrying this error, nested as ethers nests a node's answer, decodes to it.
          const data = iface.encodeErrorResult(
            fragment,
            fragment.inputs.map((i) => sampleValue(i.baseType)),
          );
          const decoded = toNetDollarError({ code: "CALL_EXCEPTION", info: { error: { data } } });
          expect((decoded as ChainRefusedError).errorName, fragment.name).to.equal(fragment.name);
          expect(decoded.shortMessage, fragment.name).to.not.match(/^the contract refused/);
        });
      }
      expect(missing).to.deep.equal([]);
    });

    it("an error already in plain words, wrapped by a caller, is found down the cause chain and kept", function () {
      const inner = new ChainRefusedError("the token is paused", { errorName: "NetDollarPaused" });
      const outer = new Error("settle failed", { cause: inner });
      expect(toNetDollarError(outer)).to.equal(inner);
    });

    it("simulateAndSend sends nothing when the call would revert", async function () {
      const { token, alice, bob } = await loadFixture(tokenFixture);
      const height = await ethers.provider.getBlockNumber();
      await expect(simulateAndSend(token.connect(alice).transfer, [bob.address, 10n ** 18n], { symbol: "NETD" })).to.be.rejectedWith(
        ChainRefusedError,
        /holds 1,000\.00 NETD; 1,000,000,000,000\.00 needs 999,999,999,000\.00 more/,
      );
      expect(await ethers.provider.getBlockNumber()).to.equal(height);
      const result = await simulateAndSend(token.connect(alice).transfer, [bob.address, 1n], { symbol: "NETD" });
      expect(result.gasUsed).to.be.greaterThan(0n);
    });
  });

  describe("EIP-712 helpers", function () {
    it("read the domain from eip712Domain() and produce signatures the token accepts and ethers recovers", async function () {
      const { token, alice, bob } = await loadFixture(tokenFixture);
      const domain = await readTokenDomain(token);
      expect(domain).to.deep.equal({
        name: "NET Dollar",
        version: "1",
        chainId: 31337n,
        verifyingContract: await token.getAddress(),
      });
      const auth = buildAuthorization({ from: alice.address, to: bob.address, value: 5n, validForSeconds: 60, now: 1n });
      expect(auth.validBefore).to.equal(61n);
      expect(auth.nonce).to.match(/^0x[0-9a-f]{64}$/);
      const sig = await signTransferAuthorization(alice, domain, auth);
      expect(recoverAuthorizationSigner(domain, auth, sig.signature)).to.equal(alice.address);
      expect(() => buildAuthorization({ from: alice.address, to: bob.address, value: 5n, validForSeconds: 0 })).to.throw(/not positive/);
    });

    it("an authorization document survives a round trip and names every bad field", async function () {
      const { alice, bob, domain } = await loadFixture(tokenFixture);
      const auth = buildAuthorization({ from: alice.address, to: bob.address, value: 2n ** 60n, validForSeconds: 60 });
      const sig = await signTransferAuthorization(alice, domain, auth);
      const doc = toAuthorizationDocument(domain.chainId, domain.verifyingContract, "transfer", auth, sig.signature);
      const parsed = parseAuthorizationDocument(JSON.stringify(doc));
      expect(parsed.auth).to.deep.equal({ ...auth, from: alice.address, to: bob.address });
      expect(parsed.doc.authorization.value).to.equal((2n ** 60n).toString());
      expect(() => parseAuthorizationDocument(JSON.stringify({ ...doc, authorization: { ...doc.authorization, value: 5 } }))).to.throw(
        /authorization\.value: Expected string, received number/,
      );
      expect(() => parseAuthorizationDocument(JSON.stringify({ ...doc, kind: "steal" }))).to.throw(/kind: Invalid enum value/);
    });
  });

  describe("deployment files", function () {
    const dir = mkdtempSync(path.join(tmpdir(), "netd-deployments-"));
    const valid: Deployment = {
      chainId: 31337,
      deployer: "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266",
      version: "0.1.0",
      contracts: {
        NetDollar: {
          address: "0xe7f1725E7734CE288F8367e1Bb143E90bb3F0512",
          implementation: "0x5FbDB2315678afecb367f032d93F642f64180aa3",
          blockNumber: 2,
          txHash: "0x" + "ab".repeat(32),
        },
      },
      roles: { admin: "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266" },
    };

    it("round-trip, and are checked against the endpoint's chain", function () {
      const file = path.join(dir, "ok.json");
      writeDeployment(file, valid);
      expect(readDeployment(file)).to.deep.equal(valid);
      expect(() => readDeploymentFor(file, 1n)).to.throw(ConfigurationError, /is for chain 31337, but the endpoint serves chain 1/);
    });

    it("name what is malformed", function () {
      const file = path.join(dir, "bad.json");
      writeFileSync(file, JSON.stringify({ ...valid, contracts: { NetDollar: { ...valid.contracts.NetDollar, address: "0x12" } } }));
      expect(() => readDeployment(file)).to.throw(ConfigurationError, /contracts\.NetDollar\.address: not an address/);
      writeFileSync(file, "{");
      expect(() => readDeployment(file)).to.throw(ConfigurationError, /is not valid JSON/);
      expect(() => readDeployment(path.join(dir, "none.json"))).to.throw(ConfigurationError, /no deployment file at/);
    });
  });

  describe("roles and deployment role holders", function () {
    it("parse CLI and Solidity names", function () {
      expect(parseRole("minter-admin")).to.equal("minter-admin");
      expect(parseRole("MINTER_ADMIN_ROLE")).to.equal("minter-admin");
      expect(() => parseRole("owner")).to.throw(/unknown role "owner"/);
      expect(roleLabel(ethers.id("SEIZER_ROLE"))).to.equal("SEIZER_ROLE");
    });

    it("default to the deployer only on a devnet", function () {
      const deployer = "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266";
      expect(resolveRoleHolders(31337n, deployer, {}).upgrader).to.equal(deployer);
      expect(resolveRoleHolders(1337n, deployer, { pauser: "0x1" }).pauser).to.equal("0x1");
      expect(() => resolveRoleHolders(8453n, deployer, { admin: deployer })).to.throw(
        ConfigurationError,
        /missing --minter-admin, --pauser, --blocklister, --seizer, --rescuer, --upgrader/,
      );
    });
  });

  describe("keys", function () {
    it("never put the key in an error message", async function () {
      const secret = "0x" + "ab".repeat(31) + "zz";
      const error = await loadWallet({ privateKey: secret }).catch((e: Error) => e);
      expect(error).to.be.instanceOf(ConfigurationError);
      expect((error as Error).message).to.not.include("abab");
      await expect(loadWallet({})).to.be.rejectedWith(ConfigurationError, /no key is configured/);
    });
  });

  describe("log scanning", function () {
    /** A provider that refuses ranges wider than `limit` blocks, as public RPCs do, and fails once at random. */
    function limitedProvider(limit: number, logsPerBlock: number) {
      const calls: [number, number][] = [];
      let failed = false;
      const provider = {
        async getLogs(filter: Filter): Promise<Log[]> {
          const from = Number(filter.fromBlock);
          const to = Number(filter.toBlock);
          calls.push([from, to]);
          if (to - from + 1 > limit) throw new Error(`query exceeds max block range ${limit}`);
          if (!failed && from > 500) {
            failed = true;
            throw new Error("ECONNRESET");
          }
          const logs = [];
          for (let b = from; b <= to; b++) for (let i = 0; i < logsPerBlock; i++) logs.push({ blockNumber: b, topics: [], data: "0x" } as unknown as Log);
          return logs;
        },
      } as unknown as Provider;
      return { provider, calls };
    }

    it("shrinks the range when the provider limits it, retries a transient failure, and misses no block", async function () {
      const { provider, calls } = limitedProvider(100, 2);
      const seen: number[] = [];
      const progress: number[] = [];
      for await (const logs of scanLogs({
        provider,
        address: ethers.ZeroAddress,
        topics: [],
        fromBlock: 0,
        toBlock: 999,
        chunkSize: 1000,
        onProgress: (b) => progress.push(b),
      })) {
        for (const log of logs) seen.push(log.blockNumber);
      }
      expect(seen.length).to.equal(2000);
      expect(new Set(seen).size).to.equal(1000);
      expect(seen).to.deep.equal([...seen].sort((a, b) => a - b));
      expect(calls.some(([f, t]) => t - f + 1 > 100)).to.equal(true);
      expect(progress.at(-1)).to.equal(999);
    });

    it("gives up with ChainUnreachableError after repeated failures", async function () {
      const provider = { getLogs: async () => Promise.reject(new Error("ECONNREFUSED")) } as unknown as Provider;
      const scan = async () => {
        for await (const logs of scanLogs({ provider, address: ethers.ZeroAddress, topics: [], fromBlock: 0, toBlock: 1, retryDelayMs: 1 })) void logs;
      };
      await expect(scan()).to.be.rejectedWith(ChainUnreachableError, /cannot read logs of blocks 0-0/);
    });
  });
});

describe("receipt polling (provider)", function () {
  it("polls sub-second on a devnet, every second elsewhere, as configured, and refuses a bad setting", function () {
    expect(pollingIntervalFor(31337n, {})).to.equal(200);
    expect(pollingIntervalFor(1n, {})).to.equal(1_000);
    expect(pollingIntervalFor(1n, { NETD_POLL_INTERVAL_MS: "2500" })).to.equal(2_500);
    expect(pollingIntervalFor(31337n, { NETD_POLL_INTERVAL_MS: "" })).to.equal(200);
    for (const bad of ["0", "fast", "-5", "100000"])
      expect(() => pollingIntervalFor(1n, { NETD_POLL_INTERVAL_MS: bad })).to.throw(
        ConfigurationError,
        `NETD_POLL_INTERVAL_MS "${bad}" is not a number of milliseconds from 10 to 60000`,
      );
  });
});

describe("examples/reserves.json", function () {
  it("is a valid reserves input: $2,000,000 in two lines", function () {
    const input = readReservesInput(path.join(__dirname, "..", "..", "examples", "reserves.json"));
    expect(input.lines.map((l) => [l.kind, l.amount])).to.deep.equal([
      ["cash", 500_000n * 1_000_000n],
      ["treasury-bills", 1_500_000n * 1_000_000n],
    ]);
  });
});

/** A value of an ABI base type, to encode a sample of each custom error. */
function sampleValue(baseType: string): unknown {
  if (baseType === "address") return "0x000000000000000000000000000000000000dEaD";
  if (baseType === "bool") return true;
  if (baseType === "string") return "sample";
  if (baseType.startsWith("bytes")) return baseType === "bytes" ? "0x01" : "0x" + "11".repeat(Number(baseType.slice(5)));
  return 7n; // uint*/int*
}
