import { ethers, upgrades } from "hardhat";
import type { HardhatEthersSigner } from "@nomicfoundation/hardhat-ethers/signers";
import type { ContractTransactionResponse } from "ethers";
import { Create2Deployer__factory, ERC1967Proxy__factory, NetDollarV2__factory } from "../typechain-types";
import type { BenchOpenZeppelinToken, BenchSoladyToken, NetDollar, NetDollarV2 } from "../typechain-types";
import { signAttestationData } from "../src/attestation/typedData";
import { buildAuthorization, readTokenDomain, signCancelAuthorization, signPermit, signTransferAuthorization } from "../src/eip712";
import type { GasRow, GasSection } from "./lib/report";

const USD = 1_000_000n;
/** $1: three non-zero bytes of calldata, as in the reference figures' 596-gas calldata. */
const AMOUNT = USD;
/** Fixed deadlines (2100-01-01) keep signatures, and so calldata and gas, identical from run to run. */
const FAR_FUTURE = 4_102_444_800n;

/** Circle's FiatTokenV2_2 behind its proxy, and our budgets (issue #2). */
const REFERENCE: Record<string, [number, number]> = {
  "transfer → holder": [45_059, 41_500],
  "transfer → fresh": [62_159, 58_600],
  "transferFrom → holder": [53_292, 50_000],
  "approve (0→x)": [55_437, 54_000],
  "mint → holder": [55_503, 52_000],
  "mint → fresh": [72_603, 69_000],
  burn: [47_174, 45_000],
  "permit (2nd for the owner)": [59_235, 52_000],
  "transferWithAuthorization → holder": [85_740, 76_000],
  "receiveWithAuthorization → holder": [85_747, 76_000],
  cancelAuthorization: [70_781, 60_000],
  configureMinter: [79_329, 60_000],
};

export async function gasOf(tx: Promise<ContractTransactionResponse>): Promise<bigint> {
  const receipt = await (await tx).wait();
  if (!receipt || receipt.status !== 1) throw new Error("benchmark transaction failed");
  return receipt.gasUsed;
}

type Measure = Record<string, () => Promise<bigint>>;

/**
 * Benchmarks use deterministic addresses and nonces (not random ones) so that calldata, and so gas, is the same on
 * every run and the committed snapshot only changes when the code does.
 */
let counter = 0;
export function deterministicAddress(label: string): string {
  return ethers.getAddress(ethers.dataSlice(ethers.id(`${label}-${counter++}`), 12));
}
export function deterministicNonce(label: string): string {
  return ethers.id(`${label}-nonce-${counter++}`);
}

interface Actors {
  issuer: HardhatEthersSigner;
  holder: HardhatEthersSigner;
  other: HardhatEthersSigner;
  spender: HardhatEthersSigner;
  relayer: HardhatEthersSigner;
}

/** Shared scenario: the holder and `other` both hold tokens; `fresh` addresses hold none. */
async function erc20Operations(
  token: BenchOpenZeppelinToken | BenchSoladyToken | NetDollar,
  a: Actors,
  mint: (to: string, amount: bigint) => Promise<ContractTransactionResponse>,
  burn: (amount: bigint) => Promise<ContractTransactionResponse>,
): Promise<Measure> {
  const fresh = () => deterministicAddress("fresh");
  await (await mint(a.holder.address, 1_000n * USD)).wait();
  await (await mint(a.other.address, 1_000n * USD)).wait();
  await (await mint(a.issuer.address, 1_000n * USD)).wait();
  // Solady's ERC20 has no ERC-5267 view: its domain is (name, "1", chain, address).
  const domain =
    "eip712Domain" in token
      ? await readTokenDomain(token)
      : {
          name: await token.name(),
          version: "1",
          chainId: (await ethers.provider.getNetwork()).chainId,
          verifyingContract: await token.getAddress(),
        };
  return {
    "transfer → holder": () => gasOf(token.connect(a.holder).transfer(a.other, AMOUNT)),
    "transfer → fresh": () => gasOf(token.connect(a.holder).transfer(fresh(), AMOUNT)),
    "transferFrom → holder": async () => {
      await (await token.connect(a.holder).approve(a.spender, 100n * USD)).wait();
      return gasOf(token.connect(a.spender).transferFrom(a.holder, a.other, AMOUNT));
    },
    "approve (0→x)": () => gasOf(token.connect(a.holder).approve(fresh(), 100n * USD)),
    "mint → holder": () => gasOf(mint(a.other.address, AMOUNT)),
    "mint → fresh": () => gasOf(mint(fresh(), AMOUNT)),
    burn: () => gasOf(burn(AMOUNT)),
    "permit (2nd for the owner)": async () => {
      const deadline = FAR_FUTURE;
      for (let i = 0; i < 2; i++) {
        const nonce = await token.nonces(a.holder);
        const value = (10n + BigInt(i)) * USD;
        const sig = await signPermit(a.holder, domain, { owner: a.holder.address, spender: a.spender.address, value, nonce, deadline });
        const permit = token.connect(a.relayer).getFunction("permit(address,address,uint256,uint256,uint8,bytes32,bytes32)");
        const tx = permit(a.holder, a.spender, value, deadline, sig.v, sig.r, sig.s) as Promise<ContractTransactionResponse>;
        if (i === 1) return gasOf(tx);
        await (await tx).wait();
      }
      throw new Error("unreachable");
    },
  };
}

async function netDollarOperations(token: NetDollar, a: Actors): Promise<Measure> {
  const base = await erc20Operations(
    token,
    a,
    (to, amount) => token.connect(a.issuer).mint(to, amount),
    (amount) => token.connect(a.issuer).burn(amount),
  );
  const domain = await readTokenDomain(token);
  return {
    ...base,
    "transferWithAuthorization → holder": async () => {
      const auth = buildAuthorization({
        from: a.holder.address,
        to: a.other.address,
        value: AMOUNT,
        validForSeconds: FAR_FUTURE - 1n,
        now: 1n,
        nonce: deterministicNonce("auth"),
      });
      const s = await signTransferAuthorization(a.holder, domain, auth);
      return gasOf(
        token
          .connect(a.relayer)
          ["transferWithAuthorization(address,address,uint256,uint256,uint256,bytes32,uint8,bytes32,bytes32)"](
            auth.from,
            auth.to,
            auth.value,
            auth.validAfter,
            auth.validBefore,
            auth.nonce,
            s.v,
            s.r,
            s.s,
          ),
      );
    },
    "receiveWithAuthorization → holder": async () => {
      const auth = buildAuthorization({
        from: a.holder.address,
        to: a.other.address,
        value: AMOUNT,
        validForSeconds: FAR_FUTURE - 1n,
        now: 1n,
        nonce: deterministicNonce("auth"),
      });
      const s = await signTransferAuthorization(a.holder, domain, auth, "receive");
      return gasOf(
        token
          .connect(a.other)
          ["receiveWithAuthorization(address,address,uint256,uint256,uint256,bytes32,uint8,bytes32,bytes32)"](
            auth.from,
            auth.to,
            auth.value,
            auth.validAfter,
            auth.validBefore,
            auth.nonce,
            s.v,
            s.r,
            s.s,
          ),
      );
    },
    cancelAuthorization: async () => {
      const nonce = deterministicNonce("cancel");
      const s = await signCancelAuthorization(a.holder, domain, { authorizer: a.holder.address, nonce });
      return gasOf(token.connect(a.relayer)["cancelAuthorization(address,bytes32,uint8,bytes32,bytes32)"](a.holder, nonce, s.v, s.r, s.s));
    },
    configureMinter: () => gasOf(token.connect(a.issuer).configureMinter(deterministicAddress("minter"), 1_000_000n * USD)),
  };
}

/** Deploys NetDollar (the current version unless told) behind its proxy with every role held by the issuer. */
export async function deployBenchNetDollar(issuer: HardhatEthersSigner, contract: "NetDollar" | "NetDollarV2" = "NetDollarV2"): Promise<NetDollar> {
  const factory = await ethers.getContractFactory(contract, issuer);
  const i = issuer.address;
  const params = { symbol: "NETD", admin: i, adminTransferDelay: 0, minterAdmin: i, pauser: i, blocklister: i, seizer: i, rescuer: i, upgrader: i };
  const token = (await upgrades.deployProxy(factory, [params], { kind: "uups" })) as unknown as NetDollar;
  await (await token.configureMinter(issuer, 10n ** 15n * USD)).wait();
  return token;
}

export async function measureTokenGas(): Promise<GasSection> {
  const [issuer, holder, other, spender, relayer] = await ethers.getSigners();
  const actors = { issuer, holder, other, spender, relayer };

  const netDollar = (await deployBenchNetDollar(issuer)) as unknown as NetDollarV2;
  const netDollarV1 = await deployBenchNetDollar(issuer, "NetDollar");
  const oz = await (await ethers.getContractFactory("BenchOpenZeppelinToken", issuer)).deploy();
  const solady = await (await ethers.getContractFactory("BenchSoladyToken", issuer)).deploy();

  const columns = ["NetDollarV2 (proxy)", "NetDollar V1 (proxy)", "OpenZeppelin ERC20Permit", "Solady ERC20"];
  const measures: Measure[] = [
    await netDollarOperations(netDollar, actors),
    await netDollarOperations(netDollarV1, actors),
    await erc20Operations(
      oz,
      actors,
      (to, v) => oz.mint(to, v),
      (v) => oz.burn(v),
    ),
    await erc20Operations(
      solady,
      actors,
      (to, v) => solady.mint(to, v),
      (v) => solady.burn(v),
    ),
  ];

  const rows: GasRow[] = [];
  for (const [operation, [reference, budget]] of Object.entries(REFERENCE)) {
    const measured: GasRow["measured"] = {};
    for (const [i, column] of columns.entries()) {
      const run = measures[i][operation];
      measured[column] = run ? await run() : undefined;
    }
    rows.push({ operation, measured, reference, budget });
  }

  // The reserve guard (issue #5): the same mint with a ReserveOracle holding a fresh attestation.
  const oracle = await (await ethers.getContractFactory("ReserveOracle", issuer)).deploy(netDollar, issuer, 0, [issuer]);
  const latest = BigInt((await ethers.provider.getBlock("latest"))!.timestamp);
  const data = {
    issuer: "NET Dollar Inc.",
    asOf: latest,
    deployments: [{ chainId: (await ethers.provider.getNetwork()).chainId, token: await netDollar.getAddress(), blockNumber: 1n, outstanding: 0n }],
    reserves: 10n ** 15n * USD,
    lines: [{ kind: "cash", custodian: "Bank", amount: 10n ** 15n * USD }],
    accountant: "Accountant LLP",
    reportSha256: ethers.ZeroHash,
  };
  await (await oracle.publish(data, issuer, await signAttestationData(issuer, data))).wait();
  await (await netDollar.configureReserveGuard(oracle, 86_400, 0)).wait();
  const unguarded = rows.find((r) => r.operation === "mint → holder")!.measured[columns[0]]!;
  rows.push({
    operation: "mint → holder, reserve guard on",
    measured: { [columns[0]]: await gasOf(netDollar.connect(issuer).mint(actors.other, AMOUNT)) },
    budget: Number(unguarded) + 8_000,
    note: "budget: the unguarded mint + 8,000",
  });
  // Deploying the token (once per chain): implementation + proxy initialized in its constructor, by CREATE from the
  // issuer's account, and through the Create2Deployer (the same address on every chain, as `netd deploy
  // --create2-deployer` and the devnet do).
  // A deployer account of its own, so the issuer's nonce (and every later contract's address, and calldata) is unchanged.
  const deployerAccount = (await ethers.getSigners())[9];
  const i = issuer.address;
  const init = NetDollarV2__factory.createInterface().encodeFunctionData("initialize", [
    { symbol: "NETD", adminTransferDelay: 0n, admin: i, minterAdmin: i, pauser: i, blocklister: i, seizer: i, rescuer: i, upgrader: i },
  ]);
  const deployGas = async (contract: { deploymentTransaction(): ContractTransactionResponse | null }) =>
    (await contract.deploymentTransaction()!.wait())!.gasUsed;
  const implementation = await new NetDollarV2__factory(deployerAccount).deploy();
  const proxy = await new ERC1967Proxy__factory(deployerAccount).deploy(await implementation.getAddress(), init);
  const created = (await deployGas(implementation)) + (await deployGas(proxy));
  const deployer = await new Create2Deployer__factory(deployerAccount).deploy();
  const salt = ethers.id("bench");
  const deterministicImplementation = ethers.getCreate2Address(await deployer.getAddress(), salt, ethers.keccak256(NetDollarV2__factory.bytecode));
  const viaCreate2 =
    (await gasOf(deployer.deploy(salt, NetDollarV2__factory.bytecode))) +
    (await gasOf(deployer.deploy(salt, (await new ERC1967Proxy__factory().getDeployTransaction(deterministicImplementation, init)).data)));
  rows.push(
    { operation: "deploy: implementation + initialized proxy (CREATE, 2 transactions)", measured: { [columns[0]]: created } },
    { operation: "deploy: the same through Create2Deployer (one address on every chain)", measured: { [columns[0]]: viaCreate2 } },
  );
  return {
    title: "Token",
    columns,
    referenceName: "Circle USDC (FiatTokenV2_2, proxy)",
    rows,
    notes: [
      "NetDollarV2 (the version `netd deploy` deploys) and NetDollar V1 are measured behind their ERC-1967 proxy with pause, blocklist and ERC-1271 support in place, V2's reserve guard off except in the last row; the OpenZeppelin and Solady tokens are plain, not upgradeable, with no pause or blocklist, and mint/burn without access control: they show the floor, not a like-for-like product.",
      "mint → holder, reserve guard on: the guard reads the ReserveOracle's latest round (one call, one storage word); its budget is the unguarded mint → holder plus 8,000 (issue #5).",
      "permit: the owner's second permit (nonce 1 → 2) for a spender that already has an allowance.",
      "approve (0→x) and approve/permit in NetDollar check neither pause nor blocklist (they move no value; every spend is checked).",
      "deploy rows: once per chain; through Create2Deployer it costs the deployer's two calls on top. There the proxy's address depends only on the deployer's address, the code and the initialization, so front-running it deploys the very same initialized token (docs/security.md).",
    ],
  };
}
