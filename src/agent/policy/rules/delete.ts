// no_delete (DESIGN §9 rule 4): deleting files anywhere in the command → deny.
import type { RuleFile } from "../rule-schema.js";
import { GIT_OPTIONS } from "./git.js";

export const NO_DELETE: RuleFile = {
  name: "no_delete",
  kind: "no_delete",
  description: "commands that delete files",
  rules: [
    {
      id: "remove",
      patterns: ["rm", "rmdir", "unlink", "shred"],
      match: [
        "rm x",
        "/bin/rm -rf /tmp/x",
        "ls; rm -rf ~",
        "echo $(rm x)",
        "echo `rm x`",
        "find . -exec rm {} \\;",
        "ls | xargs rm",
        "timeout 5 rm x",
        "'r'm x",
        '"rm" x',
        "\\rm x",
        "$'\\x72\\x6d' x",
        "cat <(rm x)",
        "f() { rm x; }; f",
        "if true; then rm x; fi",
        "shred -u secret",
        "unlink f",
        "rmdir d",
      ],
      not_match: ["echo rm", "ls rm", "rmate x", "grep -r rm .", "cat rm.txt"],
    },
    {
      id: "find-delete",
      patterns: ["find -delete"],
      match: ["find . -name '*.o' -delete", "sudo find / -delete", "find /tmp -mtime +7 -delete -print"],
      not_match: ["find . -name x", "echo find -delete", "find . -name -deleted"],
    },
    {
      id: "git-clean",
      patterns: ["git"],
      options: GIT_OPTIONS,
      subcommands: ["clean", "rm"],
      match: ["git clean -fdx", "git -C repo clean -f", "git rm file", "git -c a.b=c rm -r dir"],
      not_match: ["git status", "git commit -m clean", "git log -- rm"],
    },
    {
      id: "rsync-delete",
      patterns: ["rsync --delete*", "rsync --del", "rsync --remove-source-files"],
      match: ["rsync -a --delete src/ dst/", "rsync -a --delete-after a b", "rsync --del a b", "rsync --remove-source-files a b"],
      not_match: ["rsync -a src/ dst/", "rsync -a --exclude=delete a b"],
    },
  ],
};
