// A second, independent X12 reader for the tests (node-x12, strict): each file is parsed, its envelope counts
// and control numbers checked; one JSON line per file: its claims or its error. The files are named on the
// command line, or, with none, one path per line of standard input, each answered as it comes (the tests keep
// one reader running instead of starting node for every test).
import { readFileSync } from "node:fs";
import { createInterface } from "node:readline";
import x12 from "node-x12";

const { X12Parser } = x12;

function read(path) {
  try {
    const interchange = new X12Parser(true).parse(readFileSync(path, "utf8"));
    const sets = interchange.functionalGroups.flatMap((group) => group.transactions);
    const claims = sets.flatMap((set) => set.segments).filter((s) => s.tag === "CLM").map((s) => s.valueOf(1));
    return JSON.stringify({ path, claims });
  } catch (error) {
    return JSON.stringify({ path, error: String(error?.message ?? error) });
  }
}

const paths = process.argv.slice(2);
if (paths.length) {
  for (const path of paths) console.log(read(path));
} else {
  for await (const line of createInterface({ input: process.stdin })) {
    if (line) process.stdout.write(read(line) + "\n");
  }
}
