import type { Command } from "commander";
import { parseAddress } from "../../addresses";
import { defaultDeploymentPath, tryReadDeployment, writeDeployment } from "../../deployments";
import { deploySystem, isDevnet, resolveRoleHolders, type RoleHolders } from "../../deploy/deploy";
import { setupDevnet } from "../../deploy/devnetSetup";
import { startHardhatNode } from "../../devnet";
import { connect } from "../../provider";
import { InvalidInputError } from "../../errors";
import { action } from "../action";
import { table } from "../output";

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
    .addHelpText(
      "after",
      "\nOn a devnet (chain 31337 or 1337) roles not given default to the deployer; elsewhere every role is required.\n\nExample:\n  $ netd deploy --rpc-url https://rpc.example --admin 0x… --minter-admin 0x… --pauser 0x… --blocklister 0x… --seizer 0x… --rescuer 0x… --upgrader 0x…",
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
    .description("start a local Hardhat devnet on 127.0.0.1, deploy everything, fund demo accounts; runs until Ctrl-C")
    .option("--port <port>", "JSON-RPC port", "8545")
    .addHelpText("after", "\nExample:\n  $ netd devnet --port 8545\n  (then, in another terminal: NETD_PRIVATE_KEY=<issuer key> npx netd status)")
    .action(
      action((ctx) => async (options: { port: string }) => {
        const port = Number(options.port);
        if (!Number.isInteger(port) || port < 1 || port > 65535) throw new InvalidInputError(`--port "${options.port}" is not a TCP port`);
        ctx.out.note(`starting a Hardhat node on 127.0.0.1:${port} ...`);
        const node = await startHardhatNode({ port });
        const stop = async () => {
          await node.stop();
          process.exit(0);
        };
        process.once("SIGINT", stop);
        process.once("SIGTERM", stop);
        const provider = await connect({ rpcUrl: node.url });
        const { deployment, accounts } = await setupDevnet(provider, (m) => ctx.out.note(m));
        const file = defaultDeploymentPath(31337);
        writeDeployment(file, deployment);
        ctx.out.result(
          [
            `NET Dollar devnet running at ${node.url} (chain 31337). Press Ctrl-C to stop.`,
            ...table([
              ["NetDollar", deployment.contracts.NetDollar.address],
              ["BatchSettlement", `${deployment.contracts.BatchSettlement?.address ?? ""} (x402 batch-settlement channels, canonical address)`],
              ["deployment file", file],
            ]),
            "",
            "Accounts (Hardhat's public test keys: NEVER use them on a real network):",
            ...accounts.map((a) => `  ${a.name.padEnd(9)} ${a.address}  ${a.privateKey}`),
            "",
            "Try, in another terminal:",
            `  export NETD_RPC_URL=${node.url}`,
            `  export NETD_PRIVATE_KEY=${accounts[0].privateKey}   # the issuer`,
            "  npx netd status",
            `  npx netd balance ${accounts[2].address}`,
          ],
          { command: "devnet", url: node.url, deployment, accounts },
        );
        await new Promise(() => undefined); // run until interrupted
      }),
    );
}
