import { expect } from "chai";
import { ethers } from "hardhat";
import { loadFixture } from "@nomicfoundation/hardhat-network-helpers";
import { TypedDataEncoder } from "ethers";
import type { TokenFixture } from "../../helpers/fixtures";
import { USD } from "../../helpers/fixtures";
import { signPermit, type TokenDomain } from "../../../src/eip712";
import { highS, strangerKey } from "../../helpers/signatures";
import { atTimestamp, now, thenRevert } from "../../helpers/time";

/** EIP-2612 permit with both signature forms, including ERC-1271 wallets. */
export function shouldBehaveLikePermit(fixture: () => Promise<TokenFixture>): void {
  describe("EIP-2612 permit", function () {
    async function setup() {
      const f = await loadFixture(fixture);
      const deadline = (await now()) + 3600n;
      const nonce = await f.token.nonces(f.alice);
      const permit = { owner: f.alice.address, spender: f.bob.address, value: 25n * USD, nonce, deadline };
      const sig = await signPermit(f.alice, f.domain, permit);
      return { ...f, permit, sig };
    }

    it("exposes the EIP-712 domain (ERC-5267) and a matching DOMAIN_SEPARATOR", async function () {
      const { token, domain } = await loadFixture(fixture);
      const [fields, name, version, chainId, verifyingContract, salt, extensions] = await token.eip712Domain();
      expect(fields).to.equal("0x0f");
      expect(name).to.equal("NET Dollar");
      expect(version).to.equal(await token.version());
      expect(chainId).to.equal((await ethers.provider.getNetwork()).chainId);
      expect(verifyingContract).to.equal(await token.getAddress());
      expect(salt).to.equal(ethers.ZeroHash);
      expect(extensions).to.deep.equal([]);
      expect(await token.DOMAIN_SEPARATOR()).to.equal(TypedDataEncoder.hashDomain(domain));
    });

    for (const form of ["v, r, s", "bytes"] as const) {
      describe(`with a (${form}) signature`, function () {
        async function submit(
          f: TokenFixture,
          p: { owner: string; spender: string; value: bigint; deadline: bigint },
          sig: { v: number; r: string; s: string; signature: string },
        ) {
          const token = f.token.connect(f.relayer);
          return form === "bytes"
            ? token["permit(address,address,uint256,uint256,bytes)"](p.owner, p.spender, p.value, p.deadline, sig.signature)
            : token["permit(address,address,uint256,uint256,uint8,bytes32,bytes32)"](p.owner, p.spender, p.value, p.deadline, sig.v, sig.r, sig.s);
        }

        it("sets the allowance, emits Approval and consumes the nonce", async function () {
          const f = await setup();
          await expect(submit(f, f.permit, f.sig))
            .to.emit(f.token, "Approval")
            .withArgs(f.alice.address, f.bob.address, 25n * USD);
          expect(await f.token.allowance(f.alice, f.bob)).to.equal(25n * USD);
          expect(await f.token.nonces(f.alice)).to.equal(f.permit.nonce + 1n);
        });

        it("refuses a replay", async function () {
          const f = await setup();
          await submit(f, f.permit, f.sig);
          await expect(submit(f, f.permit, f.sig))
            .to.be.revertedWithCustomError(f.token, "NetDollarInvalidSignature")
            .withArgs(f.alice.address);
        });

        it("refuses a signature by another key", async function () {
          const f = await setup();
          const sig = await signPermit(strangerKey(), f.domain, f.permit);
          await expect(submit(f, f.permit, sig))
            .to.be.revertedWithCustomError(f.token, "NetDollarInvalidSignature")
            .withArgs(f.alice.address);
        });

        it("refuses a different value than the one signed", async function () {
          const f = await setup();
          await expect(submit(f, { ...f.permit, value: f.permit.value + 1n }, f.sig))
            .to.be.revertedWithCustomError(f.token, "NetDollarInvalidSignature")
            .withArgs(f.alice.address);
        });

        for (const [what, change] of [
          ["another chain", (d: TokenDomain) => ({ ...d, chainId: d.chainId + 1n })],
          ["another contract", (d: TokenDomain) => ({ ...d, verifyingContract: ethers.Wallet.createRandom().address })],
          ["another domain version", (d: TokenDomain) => ({ ...d, version: "2" })],
        ] as const) {
          it(`refuses a signature for ${what}`, async function () {
            const f = await setup();
            const sig = await signPermit(f.alice, change(f.domain), f.permit);
            await expect(submit(f, f.permit, sig))
              .to.be.revertedWithCustomError(f.token, "NetDollarInvalidSignature")
              .withArgs(f.alice.address);
          });
        }

        it("refuses the malleable (high-s) twin of a valid signature", async function () {
          const f = await setup();
          await expect(submit(f, f.permit, highS(f.sig)))
            .to.be.revertedWithCustomError(f.token, "NetDollarInvalidSignature")
            .withArgs(f.alice.address);
        });

        it("accepts it at the deadline (t-1 and t) and refuses it after (t+1)", async function () {
          const f = await setup();
          const { deadline } = f.permit;
          await thenRevert(async () => {
            await atTimestamp(deadline - 1n);
            await expect(submit(f, f.permit, f.sig)).to.emit(f.token, "Approval");
          });
          await thenRevert(async () => {
            await atTimestamp(deadline);
            await expect(submit(f, f.permit, f.sig)).to.emit(f.token, "Approval");
          });
          await atTimestamp(deadline + 1n);
          await expect(submit(f, f.permit, f.sig))
            .to.be.revertedWithCustomError(f.token, "NetDollarPermitExpired")
            .withArgs(deadline, deadline + 1n);
        });

        it("works while paused and for blocklisted accounts (it moves no value)", async function () {
          const f = await setup();
          await f.token.connect(f.pauser).pause();
          await f.token.connect(f.blocklister).blocklist(f.alice);
          await expect(submit(f, f.permit, f.sig)).to.emit(f.token, "Approval");
        });

        describe("from a smart-contract wallet (ERC-1271)", function () {
          async function walletSetup() {
            const f = await setup();
            const wallet = await (await ethers.getContractFactory("MockERC1271Wallet")).deploy(f.carol);
            const permit = { ...f.permit, owner: await wallet.getAddress(), nonce: 0n };
            const sig = await signPermit(f.carol, f.domain, permit);
            return { ...f, wallet, permit, sig };
          }

          it("accepts a signature the wallet accepts", async function () {
            const f = await walletSetup();
            await expect(submit(f, f.permit, f.sig))
              .to.emit(f.token, "Approval")
              .withArgs(f.permit.owner, f.bob.address, f.permit.value);
            expect(await f.token.nonces(f.permit.owner)).to.equal(1n);
          });

          it("refuses a signature the wallet rejects", async function () {
            const f = await walletSetup();
            await f.wallet.setMode(1);
            await expect(submit(f, f.permit, f.sig))
              .to.be.revertedWithCustomError(f.token, "NetDollarInvalidSignature")
              .withArgs(f.permit.owner);
          });

          it("refuses when the wallet reverts", async function () {
            const f = await walletSetup();
            await f.wallet.setMode(2);
            await expect(submit(f, f.permit, f.sig))
              .to.be.revertedWithCustomError(f.token, "NetDollarInvalidSignature")
              .withArgs(f.permit.owner);
          });
        });
      });
    }
  });
}
