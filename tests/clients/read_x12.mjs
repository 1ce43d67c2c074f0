// A second, independent X12 reader for the tests (node-x12, strict): each file named on the command line is
// parsed, its envelope counts and control numbers checked; one JSON line per file: its claims or its error.
import { readFileSync } from "node:fs";
import x12 from "node-x12";

const { X12Parser } = x12;
for (const path of process.argv.slice(2)) {
  try {
    const interchange = new X12Parser(true).parse(readFileSync(path, "utf8"));
    const sets = interchange.functionalGroups.flatMap((group) => group.transactions);
    const claims = sets.flatMap((set) => set.segments).filter((s) => s.tag === "CLM").map((s) => s.valueOf(1));
    console.log(JSON.stringify({ path, claims }));
  } catch (error) {
    console.log(JSON.stringify({ path, error: String(error?.message ?? error) }));
  }
}
