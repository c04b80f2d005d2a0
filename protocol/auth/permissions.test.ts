import { describe, expect, it } from "vitest";
import { accessDenied, authorize, missingRight, type AccountPolicy, type Perm, type Requirement } from "./permissions.js";

function account(overrides: Partial<AccountPolicy> = {}): AccountPolicy {
  return {
    accessKey: "app",
    admin: false,
    topicPerms: {},
    groupPerms: {},
    defaultTopicPerm: "DENY",
    defaultGroupPerm: "DENY",
    ...overrides,
  };
}

const PUBLIC: Requirement = { kind: "public" };
const ANY: Requirement = { kind: "any" };
const ADMIN: Requirement = { kind: "admin" };
const TOPIC_PUB: Requirement = { kind: "topic", param: "topic", action: "PUB" };
const TOPIC_SUB: Requirement = { kind: "topic", param: "topic", action: "SUB" };
const GROUP_SUB: Requirement = { kind: "group", param: "group", action: "SUB" };

const topicPub = (a: AccountPolicy, topic: string) => authorize(a, TOPIC_PUB, { topic });
const topicSub = (a: AccountPolicy, topic: string) => authorize(a, TOPIC_SUB, { topic });
const groupSub = (a: AccountPolicy, group: string) => authorize(a, GROUP_SUB, { group });

describe("authorize", () => {
  const app = account({
    topicPerms: { TPub: "PUB", TSub: "SUB", TBoth: "PUB|SUB", TDeny: "DENY" },
    groupPerms: { GSub: "SUB", GPub: "PUB", GBoth: "PUB|SUB", GDeny: "DENY" },
  });

  it("lets any account through public and any-account operations, even one denied everything", () => {
    const nobody = account();
    expect(authorize(nobody, PUBLIC, {})).toBe(true);
    expect(authorize(nobody, ANY, {})).toBe(true);
    expect(authorize(nobody, ANY, { topic: "TDeny", group: "GDeny" })).toBe(true);
  });

  it("gives admin operations to admins only", () => {
    expect(authorize(account({ admin: true }), ADMIN, {})).toBe(true);
    expect(authorize(app, ADMIN, {})).toBe(false);
    expect(authorize(account({ defaultTopicPerm: "PUB|SUB", defaultGroupPerm: "PUB|SUB" }), ADMIN, {})).toBe(false);
  });

  it("lets an admin do everything, whatever its listed permissions say", () => {
    const root = account({ admin: true, topicPerms: { TDeny: "DENY" }, groupPerms: { GDeny: "DENY" } });
    expect([topicPub(root, "TDeny"), topicSub(root, "TDeny"), groupSub(root, "GDeny")]).toEqual([true, true, true]);
    expect([topicPub(root, "Other"), topicSub(root, "Other"), groupSub(root, "Other")]).toEqual([true, true, true]);
    expect([topicSub(root, "%RETRY%GDeny"), topicSub(root, "%DLQ%GDeny")]).toEqual([true, true]);
  });

  it("applies each topic permission to PUB and SUB", () => {
    const table = Object.fromEntries(["TPub", "TSub", "TBoth", "TDeny", "TUnlisted"].map((t) => [t, { pub: topicPub(app, t), sub: topicSub(app, t) }]));
    expect(table).toEqual({
      TPub: { pub: true, sub: false },
      TSub: { pub: false, sub: true },
      TBoth: { pub: true, sub: true },
      TDeny: { pub: false, sub: false },
      TUnlisted: { pub: false, sub: false },
    });
  });

  it("applies each group permission to SUB: only SUB and PUB|SUB allow it", () => {
    const table = Object.fromEntries(["GSub", "GPub", "GBoth", "GDeny", "GUnlisted"].map((g) => [g, groupSub(app, g)]));
    expect(table).toEqual({ GSub: true, GPub: false, GBoth: true, GDeny: false, GUnlisted: false });
  });

  it("applies each group permission to PUB (a producer group's right): only PUB and PUB|SUB allow it", () => {
    const GROUP_PUB: Requirement = { kind: "group", param: "producerGroup", action: "PUB" };
    const table = Object.fromEntries(["GSub", "GPub", "GBoth", "GDeny", "GUnlisted"].map((g) => [g, authorize(app, GROUP_PUB, { producerGroup: g })]));
    expect(table).toEqual({ GSub: false, GPub: true, GBoth: true, GDeny: false, GUnlisted: false });
    expect(authorize(account({ defaultGroupPerm: "PUB" }), GROUP_PUB, { producerGroup: "Any" })).toBe(true);
    expect(authorize(account({ defaultGroupPerm: "SUB" }), GROUP_PUB, { producerGroup: "Any" })).toBe(false);
    expect(authorize(account({ admin: true }), GROUP_PUB, { producerGroup: "GDeny" })).toBe(true);
  });

  it("uses the defaults for names not listed, and listed permissions over the defaults", () => {
    for (const perm of ["DENY", "PUB", "SUB", "PUB|SUB"] as Perm[]) {
      const a = account({ defaultTopicPerm: perm, defaultGroupPerm: perm, topicPerms: { Listed: "DENY" }, groupPerms: { Listed: "SUB" } });
      expect({ perm, pub: topicPub(a, "Other"), sub: topicSub(a, "Other"), group: groupSub(a, "Other") }).toEqual({
        perm,
        pub: perm === "PUB" || perm === "PUB|SUB",
        sub: perm === "SUB" || perm === "PUB|SUB",
        group: perm === "SUB" || perm === "PUB|SUB",
      });
      // Listed entries win over any default.
      expect([topicPub(a, "Listed"), topicSub(a, "Listed"), groupSub(a, "Listed")]).toEqual([false, false, true]);
    }
    const open = account({ defaultTopicPerm: "PUB|SUB", defaultGroupPerm: "PUB|SUB" });
    expect([topicPub(open, "Anything"), topicSub(open, "Anything"), groupSub(open, "Anything")]).toEqual([true, true, true]);
  });

  it("maps %RETRY% and %DLQ% topics to their group's SUB permission", () => {
    const a = account({
      topicPerms: { "%RETRY%GDeny": "PUB|SUB", "%DLQ%GDeny": "PUB|SUB", "%RETRY%GSub": "DENY" },
      groupPerms: { GSub: "SUB", GPub: "PUB", GDeny: "DENY" },
      defaultTopicPerm: "PUB|SUB",
    });
    const table = Object.fromEntries(
      ["%RETRY%GSub", "%DLQ%GSub", "%RETRY%GPub", "%DLQ%GPub", "%RETRY%GDeny", "%DLQ%GDeny", "%RETRY%GUnlisted", "%DLQ%GUnlisted"].map((t) => [
        t,
        { pub: topicPub(a, t), sub: topicSub(a, t) },
      ]),
    );
    expect(table).toEqual({
      // The group decides; topic entries for the system topic are not consulted.
      "%RETRY%GSub": { pub: true, sub: true },
      "%DLQ%GSub": { pub: true, sub: true },
      "%RETRY%GPub": { pub: false, sub: false },
      "%DLQ%GPub": { pub: false, sub: false },
      "%RETRY%GDeny": { pub: false, sub: false },
      "%DLQ%GDeny": { pub: false, sub: false },
      // defaultGroupPerm (DENY), not defaultTopicPerm (PUB|SUB).
      "%RETRY%GUnlisted": { pub: false, sub: false },
      "%DLQ%GUnlisted": { pub: false, sub: false },
    });
    const groupsOpen = account({ defaultGroupPerm: "SUB" });
    expect([topicSub(groupsOpen, "%RETRY%Any"), topicSub(groupsOpen, "%DLQ%Any"), topicSub(groupsOpen, "Any")]).toEqual([true, true, false]);
  });

  it("treats names that only look like system topics as ordinary topics", () => {
    const a = account({ groupPerms: { G: "SUB" }, topicPerms: { "%RETRY%": "PUB" } });
    expect(topicSub(a, "x%RETRY%G")).toBe(false); // not a prefix
    expect(topicSub(a, "%retry%G")).toBe(false); // case matters
    expect(topicSub(a, "%RETRY%G")).toBe(true);
    // An empty group part is no group: the topic entry applies.
    expect([topicPub(a, "%RETRY%"), topicSub(a, "%RETRY%")]).toEqual([true, false]);
  });

  it("reads the name from the parameter the requirement names; a missing one gets the default", () => {
    const a = account({ topicPerms: { T: "PUB|SUB" }, defaultTopicPerm: "DENY" });
    const custom: Requirement = { kind: "topic", param: "name", action: "PUB" };
    expect(authorize(a, custom, { name: "T" })).toBe(true);
    expect(authorize(a, custom, { topic: "T" })).toBe(false);
    expect(authorize(a, TOPIC_PUB, {})).toBe(false);
    expect(authorize(account({ defaultGroupPerm: "SUB" }), GROUP_SUB, {})).toBe(true);
  });
});

describe("all-of requirements", () => {
  const BOTH: Requirement = { kind: "all", of: [GROUP_SUB, TOPIC_SUB] };

  it("item 10: an operation naming a group and a topic needs SUB on both", () => {
    const a = account({ topicPerms: { TSub: "SUB", TPub: "PUB", TDeny: "DENY" }, groupPerms: { GSub: "SUB", GDeny: "DENY" } });
    const table = Object.fromEntries(
      ["GSub", "GDeny"].flatMap((group) => ["TSub", "TPub", "TDeny"].map((topic) => [`${group}/${topic}`, authorize(a, BOTH, { group, topic })])),
    );
    expect(table).toEqual({
      "GSub/TSub": true,
      "GSub/TPub": false,
      "GSub/TDeny": false,
      "GDeny/TSub": false,
      "GDeny/TPub": false,
      "GDeny/TDeny": false,
    });
    // The group's own retry topic takes the group's permission, as everywhere.
    expect(authorize(a, BOTH, { group: "GSub", topic: "%RETRY%GSub" })).toBe(true);
    expect(authorize(account({ admin: true }), BOTH, { group: "GDeny", topic: "TDeny" })).toBe(true);
    expect(authorize(a, { kind: "all", of: [] }, {})).toBe(true);
  });
});

describe("missingRight", () => {
  const a = account({ topicPerms: { TSub: "SUB", TPub: "PUB" }, groupPerms: { GSub: "SUB" } });
  const BOTH: Requirement = { kind: "all", of: [GROUP_SUB, TOPIC_SUB] };

  it("names the permission and the resource an account lacks, the first of several, or nothing when it holds them", () => {
    const cases: [Requirement, Record<string, string>, string | undefined][] = [
      [TOPIC_PUB, { topic: "TSub" }, 'PUB on topic "TSub"'],
      [TOPIC_SUB, { topic: "TPub" }, 'SUB on topic "TPub"'],
      [TOPIC_SUB, { topic: "TSub" }, undefined],
      [TOPIC_SUB, { topic: "%DLQ%GOther" }, 'SUB on group "GOther" (the group of topic "%DLQ%GOther")'],
      [TOPIC_SUB, { topic: "%RETRY%GSub" }, undefined],
      [GROUP_SUB, { group: "GOther" }, 'SUB on group "GOther"'],
      [BOTH, { group: "GOther", topic: "TPub" }, 'SUB on group "GOther"'],
      [BOTH, { group: "GSub", topic: "TPub" }, 'SUB on topic "TPub"'],
      [BOTH, { group: "GSub", topic: "TSub" }, undefined],
      [ADMIN, {}, "admin rights"],
      [ANY, {}, undefined],
      [PUBLIC, {}, undefined],
    ];
    expect(cases.map(([r, params]) => missingRight(a, r, params))).toEqual(cases.map(([, , missing]) => missing));
    expect(missingRight(account({ admin: true }), BOTH, { group: "GOther", topic: "TPub" })).toBeUndefined();
  });

  it("ACCESS_DENIED says who lacks what", () => {
    const e = accessDenied("app", 'PUB on topic "T"');
    expect([e.code, e.status, e.message]).toEqual(["ACCESS_DENIED", 403, 'account "app" lacks PUB on topic "T"']);
  });
});
