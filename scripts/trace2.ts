import { ethers, network } from "hardhat";
import type { ConditionalEscrow } from "../typechain-types";
import { readTokenDomain, signTransferAuthorization } from "../src/eip712";
import { buildPayment, paymentId, toStruct } from "../src/escrow/payment";
import { deployBenchNetDollar } from "../bench/token.gas";
async function main() {
  const signers = await ethers.getSigners();
  const [issuer, payer, verifier, , , relayer] = signers;
  const payee = signers[10];
  const token = await deployBenchNetDollar(issuer);
  const escrow = (await (await ethers.getContractFactory("ConditionalEscrow", issuer)).deploy()) as unknown as ConditionalEscrow;
  const ea = await escrow.getAddress(); const chainId = 31337n; const domain = await readTokenDomain(token);
  for (const s of [payer, payee]) await (await token.mint(s, 10_000n * 1000000n)).wait();
  let salt = 1n;
  const terms = () => buildPayment({ payer: payer.address, token: await_(token), amount: 100_000000n, payees: [payee.address], verifier: verifier.address, now: BigInt(Math.floor(Date.now()/1000)) + 10n**6n, salt: BigInt(ethers.id(`s${salt++}`)) });
  let tokenAddress = await token.getAddress(); function await_(_: unknown) { return tokenAddress; }
  async function fund(p: ReturnType<typeof terms>) {
    const id = paymentId(p, ea, chainId);
    const sig = await signTransferAuthorization(payer, domain, { from: p.payer, to: ea, value: p.amount, validAfter: 0n, validBefore: p.fundBy, nonce: id }, "receive");
    return escrow.connect(relayer).fundWithAuthorization(toStruct(p), 0n, p.fundBy, sig.signature);
  }
  await (await fund(terms())).wait();
  const p = terms();
  const tx1 = await fund(p);
  const tx2 = await escrow.connect(verifier).confirm(toStruct(p));
  const pr = terms(); await (await fund(pr)).wait();
  await network.provider.send("evm_setNextBlockTimestamp", [Number(pr.confirmBy + pr.disputeWindow + 1n)]);
  const tx3 = await escrow.connect(payer).reclaim(toStruct(pr));
  for (const tx of [tx1, tx2, tx3]) {
    const r = await tx.wait();
    console.log("gasUsed", r!.gasUsed, "calldata bytes", (tx.data.length - 2) / 2, "nonzero", tx.data.slice(2).match(/../g)!.filter((b) => b !== "00").length);
    const trace: any = await network.provider.send("debug_traceTransaction", [tx.hash, { disableStorage: true, disableMemory: true, disableStack: true }]);
    const byDepth: Record<number, number> = {}; const big: string[] = [];
    const ops: Record<string, number> = {};
    for (const s of trace.structLogs) { if (s.op !== "CALL" && s.op !== "DELEGATECALL" && s.op !== "STATICCALL") byDepth[s.depth] = (byDepth[s.depth] ?? 0) + s.gasCost; else big.push(`${s.depth} ${s.op} ${s.gasCost}`); if (s.gasCost >= 100 && !s.op.includes("CALL")) big.push(`${s.depth} ${s.pc} ${s.op} ${s.gasCost}`); if (s.depth===1) ops[s.op]=(ops[s.op]??0)+s.gasCost; }
    console.log(byDepth); console.log(big.join(" | "));
    console.log(Object.entries(ops).sort((a,b)=>b[1]-a[1]).slice(0,15).map(([k,v])=>`${k}:${v}`).join(" "));
  }
}
main();
