"use strict";
// UI strings in English and Dutch; the language follows the browser (navigator.languages).
const MESSAGES = {
  en: {
    title: "Inbox", myQueue: "My queue", team: "Team", signOut: "Sign out", signIn: "Sign in",
    tokenLabel: "Your inbox token", empty: "Nothing for you right now.", coverage: "Coverage",
    budgetChart: "Budget use today and this week", slaChart: "SLA attainment per urgency",
    open: "Open", backlogged: "Waiting", escalated: "Escalated", accept: "Accept",
    done: "Done", minutes: "minutes", decline: "Decline", reason: "reason",
    correct: "Correct", reassign: "Reassign", to: "to", due: "due", overdue: "overdue by",
    left: "left", replyFrom: "reply from", original: "original post", why: "Why me", whyThem: "Why",
    badToken: "That token was not accepted.", queued: "Sent; updating…",
    failed: "Not done", today: "today", week: "this week", noData: "no data yet",
    topic: "topic", urgency: "urgency", states: {
      assigned: "new", accepted: "accepted", backlogged: "waiting", escalated: "escalated" },
  },
  nl: {
    title: "Inbox", myQueue: "Mijn wachtrij", team: "Team", signOut: "Afmelden",
    signIn: "Aanmelden", tokenLabel: "Je inbox-token", empty: "Er is nu niets voor je.",
    coverage: "Dekking", budgetChart: "Budgetgebruik vandaag en deze week",
    slaChart: "SLA gehaald per urgentie", open: "Open", backlogged: "Wachtend",
    escalated: "Geëscaleerd", accept: "Accepteren", done: "Klaar", minutes: "minuten",
    decline: "Weigeren", reason: "reden", correct: "Corrigeren", reassign: "Toewijzen",
    to: "aan", due: "deadline", overdue: "te laat met", left: "over", replyFrom: "antwoord via",
    original: "oorspronkelijk bericht", why: "Waarom ik", whyThem: "Waarom",
    badToken: "Dat token is niet geaccepteerd.", queued: "Verstuurd; bijwerken…",
    failed: "Niet gelukt", today: "vandaag", week: "deze week", noData: "nog geen gegevens",
    topic: "onderwerp", urgency: "urgentie", states: {
      assigned: "nieuw", accepted: "geaccepteerd", backlogged: "wachtend", escalated: "geëscaleerd" },
  },
};

function pickLanguage(languages) {
  for (const tag of languages || []) {
    const base = String(tag).toLowerCase().split("-")[0];
    if (base in MESSAGES) return base;
  }
  return "en";
}

const LANG = pickLanguage(navigator.languages && navigator.languages.length
  ? navigator.languages : [navigator.language]);

function t(key) {
  return MESSAGES[LANG][key] ?? MESSAGES.en[key] ?? key;
}

function translatePage() {
  document.documentElement.lang = LANG;
  for (const el of document.querySelectorAll("[data-i18n]")) {
    el.textContent = t(el.dataset.i18n);
  }
}
