import type { Cast } from "./story";
import { Story } from "./story";
import { tokenChapter } from "./tokenChapter";

export type { Cast } from "./story";

/**
 * The whole NET Dollar story, chapter by chapter, on whatever chain the cast's signers are connected to
 * (`npm run demo` uses Hardhat's in-process network).
 */
export async function runDemo(cast: Cast, write?: (line: string) => void): Promise<void> {
  const story = new Story(write);
  await tokenChapter(story, cast);
}
