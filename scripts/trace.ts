import { ethers, network } from "hardhat";
async function main() {
  const [admin, a, b, c] = await ethers.getSigners();
  const Impl = await ethers.getContractFactory("NetDollar");
  const impl = await Impl.deploy();
  const init = Impl.interface.encodeFunctionData("initialize", [{ symbol: "NETD", admin: admin.address, adminTransferDelay: 0, minterAdmin: admin.address, pauser: admin.address, blocklister: admin.address, seizer: admin.address, rescuer: admin.address, upgrader: admin.address }]);
  const proxy = await (await ethers.getContractFactory("ERC1967Proxy")).deploy(await impl.getAddress(), init);
  const t = Impl.attach(await proxy.getAddress()) as any;
  await t.configureMinter(admin.address, 10n ** 15n);
  await t.mint(a.address, 1000_000000n);
  await t.mint(b.address, 1);
  const tx = await t.connect(a).transfer(b.address, 1_000000n);
  const r = await tx.wait();
  console.log("gasUsed", r.gasUsed);
  const trace: any = await network.provider.send("debug_traceTransaction", [tx.hash, { disableStorage: true, disableMemory: true, disableStack: true }]);
  const byDepth: Record<number, number> = {};
  const expensive: string[] = [];
  let n = 0;
  for (const s of trace.structLogs) {
    byDepth[s.depth] = (byDepth[s.depth] ?? 0) + s.gasCost;
    n++;
    if (s.gasCost >= 100) expensive.push(`${s.depth} ${s.pc} ${s.op} ${s.gasCost}`);
  }
  console.log(byDepth, "steps", n);
  console.log(expensive.join("\n"));
  const ops: Record<string, number> = {};
  for (const s of trace.structLogs) if (s.depth === 2) ops[s.op] = (ops[s.op] ?? 0) + 1;
  console.log(JSON.stringify(ops));
}
main();
