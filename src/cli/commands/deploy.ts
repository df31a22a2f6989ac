import type { Command } from "commander";
import { parseAddress } from "../../addresses";
import { defaultDeploymentPath, tryReadDeployment, writeDeployment, type Deployment } from "../../deployments";
import { deploySystem, isDevnet, resolveRoleHolders, type RoleHolders } from "../../deploy/deploy";
import { setupDevnet, type DevnetAccount } from "../../deploy/devnetSetup";
import { startHardhatNode, type HardhatNode } from "../../devnet";
import { connect } from "../../provider";
import { InvalidInputError, NetDollarError } from "../../errors";
import { action } from "../action";
import { table } from "../output";
import { parseCount, parsePort } from "../parse";

interface DeployOptions {
  symbol: string;
  admin?: string;
  minterAdmin?: string;
  pauser?: string;
  blocklister?: string;
  seizer?: string;
  rescuer?: string;
  upgrader?: string;
  adminDelay?: string;
  fresh?: boolean;
  create2Deployer?: string;
}

/** deploy and devnet. */
export function registerDeployCommands(program: Command): void {
  program
    .command("deploy")
    .description("deploy NetDollar behind its proxy to the endpoint and write deployments/<chainId>.json")
    .option("--symbol <symbol>", "token symbol", "NETD")
    .option("--admin <address>", "default admin (two-step transfer with a delay)")
    .option("--minter-admin <address>", "configures minters, approves redeemers")
    .option("--pauser <address>", "pauses and unpauses")
    .option("--blocklister <address>", "manages the blocklist")
    .option("--seizer <address>", "seizes blocklisted balances")
    .option("--rescuer <address>", "rescues other tokens sent to the contract")
    .option("--upgrader <address>", "upgrades the implementation")
    .option("--admin-delay <seconds>", "delay of a default admin transfer (default: 0 on a devnet, 172800 elsewhere)")
    .option("--fresh", "redeploy even if the deployment file already has the contracts")
    .option(
      "--create2-deployer <address>",
      "deploy the token through this Create2Deployer: the same address on every chain where it is at the same address, with the same roles",
    )
    .addHelpText(
      "after",
      "\nOn a devnet (chain 31337, 31338 or 1337) roles not given default to the deployer; elsewhere every role is required.\n\nExample:\n  $ netd deploy --rpc-url https://rpc.example --admin 0x… --minter-admin 0x… --pauser 0x… --blocklister 0x… --seizer 0x… --rescuer 0x… --upgrader 0x…",
    )
    .action(
      action((ctx) => async (options: DeployOptions) => {
        const given: Partial<RoleHolders> = {};
        for (const key of ["admin", "minterAdmin", "pauser", "blocklister", "seizer", "rescuer", "upgrader"] as const) {
          const value = options[key];
          if (value !== undefined) given[key] = parseAddress(value, `--${key.replace(/[A-Z]/g, (c) => "-" + c.toLowerCase())}`);
        }
        if (!/^[\x21-\x7e]{1,11}$/.test(options.symbol)) {
          throw new InvalidInputError(`symbol "${options.symbol}" must be 1 to 11 printable ASCII characters without spaces`);
        }
        let adminDelay: bigint | undefined;
        if (options.adminDelay !== undefined) {
          if (!/^\d+$/.test(options.adminDelay) || BigInt(options.adminDelay) >= 2n ** 48n) {
            throw new InvalidInputError(`--admin-delay "${options.adminDelay}" is not a whole number of seconds`);
          }
          adminDelay = BigInt(options.adminDelay);
        }
        const chainId = await ctx.chainId();
        const signer = await ctx.signer();
        const roles = resolveRoleHolders(chainId, signer.address, given);
        const file = await ctx.deploymentPath();
        const existing = tryReadDeployment(file);
        if (existing && BigInt(existing.chainId) !== chainId) {
          throw new InvalidInputError(`${file} is for chain ${existing.chainId}, but the endpoint serves chain ${chainId}`);
        }
        if (!isDevnet(chainId)) {
          await ctx.confirm(
            [`Deploy NetDollar (${options.symbol}) to chain ${chainId} from ${signer.address} with roles:`, ...table(Object.entries(roles))].join("\n"),
          );
        }
        const deployment = await deploySystem({
          deployer: signer,
          chainId,
          roles,
          symbol: options.symbol,
          adminTransferDelay: adminDelay,
          existing,
          fresh: options.fresh,
          ...(options.create2Deployer ? { create2Deployer: parseAddress(options.create2Deployer, "--create2-deployer") } : {}),
          onStep: (m) => ctx.out.note(m),
        });
        writeDeployment(file, deployment);
        ctx.out.result(
          [
            ...table([
              ["chain", String(deployment.chainId)],
              ["NetDollar", deployment.contracts.NetDollar.address],
              ["implementation", deployment.contracts.NetDollar.implementation ?? ""],
              ["ConditionalEscrow", deployment.contracts.ConditionalEscrow?.address ?? ""],
              ["ReserveOracle", deployment.contracts.ReserveOracle?.address ?? ""],
              ["BatchSettlement", deployment.contracts.BatchSettlement?.address ?? ""],
              ["deposit collector", deployment.contracts.ERC3009DepositCollector?.address ?? ""],
              ["deployment file", file],
            ]),
          ],
          { command: "deploy", file, deployment },
        );
      }),
    );

  program
    .command("devnet")
    .description("start local Hardhat devnets on 127.0.0.1 (chain 31337, then 31338, …), deploy everything, fund demo accounts; runs until Ctrl-C")
    .option("--port <port>", "JSON-RPC port of the first chain; the others take the next ports", "8545")
    .option("--chains <n>", "how many chains (1 to 4): chain ids 31337, 31338, … on consecutive ports, the token at the same address on each", "1")
    .addHelpText(
      "after",
      "\nExamples:\n  $ netd devnet --port 8545\n  $ netd devnet --chains 2      # chains 31337 on :8545 and 31338 on :8546\n  (then, in another terminal: NETD_PRIVATE_KEY=<issuer key> npx netd status)",
    )
    .action(
      action((ctx) => async (options: { port: string; chains: string }) => {
        const port = parsePort(options.port);
        if (port === 0) throw new InvalidInputError("--port 0: give the devnet a fixed port (its URL goes into the deployment files)");
        const count = parseCount(options.chains, "--chains", 4);
        if (port + count - 1 > 65535) throw new InvalidInputError(`--port ${port} leaves no room for ${count} consecutive ports`);
        const chains = Array.from({ length: count }, (_, i) => ({ port: port + i, chainId: 31337 + i }));
        const nodes: HardhatNode[] = [];
        const stop = async () => {
          await Promise.all(nodes.map((n) => n.stop()));
          process.exit(0);
        };
        process.once("SIGINT", stop);
        process.once("SIGTERM", stop);
        const started: { url: string; chainId: number; file: string; deployment: Deployment; accounts: DevnetAccount[] }[] = [];
        try {
          for (const chain of chains) {
            ctx.out.note(`starting a Hardhat node for chain ${chain.chainId} on 127.0.0.1:${chain.port} ...`);
            const node = await startHardhatNode(chain);
            nodes.push(node);
            const provider = await connect({ rpcUrl: node.url });
            const { deployment, accounts } = await setupDevnet(provider, (m) => ctx.out.note(count > 1 ? `[${chain.chainId}] ${m}` : m));
            provider.destroy();
            const file = defaultDeploymentPath(chain.chainId);
            writeDeployment(file, deployment);
            started.push({ url: node.url, chainId: chain.chainId, file, deployment, accounts });
          }
        } catch (error) {
          await Promise.all(nodes.map((n) => n.stop()));
          throw error;
        }
        // The token is deployed through the CREATE2 deployer at the same devnet address on every chain, with the same
        // code and roles: its address agrees everywhere; say so loudly if it does not.
        const token = started[0].deployment.contracts.NetDollar.address;
        const differs = started.find((s) => s.deployment.contracts.NetDollar.address !== token);
        if (differs) {
          await Promise.all(nodes.map((n) => n.stop()));
          throw new NetDollarError(
            `the token is at ${differs.deployment.contracts.NetDollar.address} on chain ${differs.chainId}, not ${token} as on chain ${started[0].chainId}`,
          );
        }
        // A block now on every chain, so that "the latest time every chain has reached" (attest create --as-of now)
        // is after the last chain's first block.
        if (count > 1) {
          for (const s of started) {
            const provider = await connect({ rpcUrl: s.url });
            await provider.send("evm_mine", []);
            provider.destroy();
          }
        }
        const { accounts } = started[0];
        const rpcFlags = started.map((s) => `--rpc-url ${s.url}`).join(" ");
        ctx.out.result(
          [
            count === 1
              ? `NET Dollar devnet running at ${started[0].url} (chain 31337). Press Ctrl-C to stop.`
              : `NET Dollar devnets running: ${started.map((s) => `chain ${s.chainId} at ${s.url}`).join(", ")}. Press Ctrl-C to stop.`,
            ...table([
              ["NetDollar", `${token}${count > 1 ? " (the same address on every chain)" : ""}`],
              ["BatchSettlement", `${started[0].deployment.contracts.BatchSettlement?.address ?? ""} (x402 batch-settlement channels, canonical address)`],
              ...started.map((s): [string, string] => [count === 1 ? "deployment file" : `deployment file ${s.chainId}`, s.file]),
            ]),
            "",
            "Accounts (Hardhat's public test keys: NEVER use them on a real network):",
            ...accounts.map((a) => `  ${a.name.padEnd(9)} ${a.address}  ${a.privateKey}`),
            "",
            "Try, in another terminal:",
            `  export NETD_RPC_URL=${started[0].url}`,
            `  export NETD_PRIVATE_KEY=${accounts[0].privateKey}   # the issuer`,
            "  npx netd status",
            `  npx netd balance ${accounts[2].address}`,
            ...(count > 1 ? [`  npx netd ${rpcFlags} attest create --reserves reserves.json --as-of now --out attestation.json   # every chain`] : []),
          ],
          { command: "devnet", url: started[0].url, deployment: started[0].deployment, accounts, chains: started.map(({ accounts: _a, ...s }) => s) },
        );
        await new Promise(() => undefined); // run until interrupted
      }),
    );
}
