import { ethers } from "hardhat";
import type { HardhatEthersSigner } from "@nomicfoundation/hardhat-ethers/signers";
import type { ReserveOracle } from "../../typechain-types";
import { tokenFixture, type TokenFixture } from "../helpers/fixtures";
import { now } from "../helpers/time";
import { signAttestationData, type AttestationData } from "../../src/attestation/typedData";

export const USD = 1_000_000n;

export interface OracleFixture extends TokenFixture {
  oracle: ReserveOracle;
  attestor: HardhatEthersSigner;
  /** Attestation data for this chain and token with `reserves` in two lines, as of `asOf` (default: a minute ago). */
  data(overrides?: Partial<AttestationData> & { reservesTotal?: bigint }): Promise<AttestationData>;
  sign(data: AttestationData, signer?: HardhatEthersSigner): Promise<string>;
}

export async function oracleFixture(): Promise<OracleFixture> {
  const f = await tokenFixture();
  const attestor = (await ethers.getSigners())[14];
  const oracle = (await (
    await ethers.getContractFactory("ReserveOracle")
  ).deploy(await f.token.getAddress(), f.admin, 0, [attestor])) as unknown as ReserveOracle;
  const chainId = (await ethers.provider.getNetwork()).chainId;
  const tokenAddress = await f.token.getAddress();
  return {
    ...f,
    oracle,
    attestor,
    async data(overrides = {}) {
      const total = overrides.reservesTotal ?? 5_000n * USD;
      const cash = total / 5n;
      return {
        issuer: "NET Dollar Inc.",
        asOf: (await now()) - 60n,
        deployments: [{ chainId, token: tokenAddress, blockNumber: BigInt(await ethers.provider.getBlockNumber()), outstanding: await f.token.totalSupply() }],
        reserves: total,
        lines: [
          { kind: "cash", custodian: "First Bank", amount: cash },
          { kind: "treasury-bills", custodian: "Custody Trust", amount: total - cash },
        ],
        accountant: "Example Accountants LLP",
        reportSha256: ethers.sha256(ethers.toUtf8Bytes("report")),
        ...overrides,
      };
    },
    sign: (data, signer = attestor) => signAttestationData(signer, data),
  };
}
