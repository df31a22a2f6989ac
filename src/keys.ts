import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";
import { NonceManager, Wallet, type Provider, type Signer } from "ethers";
import { ConfigurationError } from "./errors";

/** Where the signing key comes from; at most one of `privateKey` and `keystore`. */
export interface KeySource {
  /** 32-byte hex private key (NETD_PRIVATE_KEY). Never printed or logged. */
  privateKey?: string;
  /** Path of an encrypted JSON keystore (NETD_KEYSTORE). */
  keystore?: string;
  /** Keystore password (NETD_KEYSTORE_PASSWORD); asked on the terminal when missing. */
  keystorePassword?: string;
  /** Asks for the keystore password when none is given; absent in non-interactive use. */
  promptPassword?: (question: string) => Promise<string>;
}

/** Whether any key is configured. */
export function hasKey(source: KeySource): boolean {
  return Boolean(source.privateKey || source.keystore);
}

/**
 * Loads the signing key and returns a signer connected to `provider` whose nonces are tracked locally (so
 * transactions sent back to back never collide). Error messages never contain the key.
 *
 * @example
 * const signer = await loadSigner({ privateKey: process.env.NETD_PRIVATE_KEY }, provider);
 */
export async function loadSigner(source: KeySource, provider: Provider): Promise<Signer & { address: string }> {
  const wallet = await loadWallet(source);
  const managed = new NonceManager(wallet.connect(provider));
  return Object.assign(managed, { address: wallet.address });
}

/** Loads the key as an ethers Wallet (not connected). */
export async function loadWallet(source: KeySource): Promise<Wallet> {
  if (source.privateKey && source.keystore) {
    throw new ConfigurationError("both a private key and a keystore are configured", {
      details: "set only one of NETD_PRIVATE_KEY and NETD_KEYSTORE (or --keystore)",
    });
  }
  if (source.privateKey) {
    const hex = source.privateKey.trim().replace(/^0x/, "");
    if (!/^[0-9a-fA-F]{64}$/.test(hex) || /^0+$/.test(hex)) {
      throw new ConfigurationError("NETD_PRIVATE_KEY is not a 32-byte hex private key", {
        details: "expected 64 hex digits, with or without 0x (the value is not shown)",
      });
    }
    try {
      return new Wallet("0x" + hex);
    } catch {
      throw new ConfigurationError("NETD_PRIVATE_KEY is not a valid secp256k1 private key (the value is not shown)");
    }
  }
  if (source.keystore) {
    let json: string;
    try {
      json = readFileSync(source.keystore, "utf8");
    } catch (cause) {
      if ((cause as NodeJS.ErrnoException).code === "ENOENT") {
        throw new ConfigurationError(`keystore ${source.keystore} not found`, {
          details: `create one with \`netd keystore create ${source.keystore}\` (or import a key with \`netd keystore import\`)`,
          cause,
        });
      }
      throw new ConfigurationError(`cannot read the keystore ${source.keystore}`, { cause });
    }
    let password = source.keystorePassword;
    if (password === undefined) {
      if (!source.promptPassword) {
        throw new ConfigurationError("the keystore needs a password", {
          details: "set NETD_KEYSTORE_PASSWORD, or run on a terminal to be asked for it",
        });
      }
      password = await source.promptPassword(`Password for ${source.keystore}: `);
    }
    try {
      const wallet = await Wallet.fromEncryptedJson(json, password);
      return wallet instanceof Wallet ? wallet : new Wallet(wallet.privateKey);
    } catch (cause) {
      throw new ConfigurationError(`cannot decrypt the keystore ${source.keystore}`, {
        details: "wrong password, or not an encrypted JSON keystore",
        cause,
      });
    }
  }
  throw new ConfigurationError("no key is configured for a transaction", {
    details: "set NETD_PRIVATE_KEY, or NETD_KEYSTORE (or --keystore) with NETD_KEYSTORE_PASSWORD",
  });
}

/** Reads a password from the terminal without echoing it. */
export async function promptHidden(question: string): Promise<string> {
  const { stdin, stderr } = process;
  if (!stdin.isTTY) throw new ConfigurationError("cannot ask for a password: standard input is not a terminal");
  return new Promise((resolve, reject) => {
    stderr.write(question);
    stdin.setRawMode(true);
    stdin.resume();
    let answer = "";
    const onData = (chunk: Buffer) => {
      for (const char of chunk.toString("utf8")) {
        if (char === "\r" || char === "\n") {
          cleanup();
          stderr.write("\n");
          return resolve(answer);
        }
        if (char === "\u0003") {
          cleanup();
          return reject(new ConfigurationError("cancelled"));
        }
        if (char === "\u007f") answer = answer.slice(0, -1);
        else answer += char;
      }
    };
    const cleanup = () => {
      stdin.off("data", onData);
      stdin.setRawMode(false);
      stdin.pause();
    };
    stdin.on("data", onData);
  });
}

/**
 * Writes a new encrypted JSON keystore (scrypt, the format geth and ethers read) for a fresh random key, or for
 * `privateKey`; never overwrites a file, and the file is readable by its owner only. Returns the key's address.
 *
 * @example
 * const { address } = await createKeystore({ file: "keys/minter.json", password });
 */
export async function createKeystore(params: { file: string; password: string; privateKey?: string }): Promise<{ address: string }> {
  if (params.password.length < 8) throw new ConfigurationError("the keystore password must be at least 8 characters");
  const wallet = params.privateKey ? await loadWallet({ privateKey: params.privateKey }) : Wallet.createRandom();
  const json = await wallet.encrypt(params.password);
  mkdirSync(dirname(params.file), { recursive: true });
  try {
    writeFileSync(params.file, json, { mode: 0o600, flag: "wx" });
  } catch (cause) {
    if ((cause as NodeJS.ErrnoException).code === "EEXIST")
      throw new ConfigurationError(`${params.file} already exists; not overwriting a keystore`, { cause });
    throw new ConfigurationError(`cannot write ${params.file}`, { cause });
  }
  return { address: wallet.address };
}
