// Loaded into an empty page after adaptivecards.min.js and axe.min.js (tests/test_accessibility.py).
//
// checkCards renders the cards with Microsoft's renderer one after the other, each alone in a
// labelled <section>, runs axe on it and reports what axe found and the headings it has.
// (One card at a time is faster than many side by side: axe's colour-contrast check scrolls
// through the whole page.) The renderer builds a show-card's content only when it is opened,
// so a card is checked with its first show-card open (the rest of the card stays as it is)
// and, should it have more, once more with each further one open.
"use strict";

const HEADINGS = "[role='heading'], h1, h2, h3, h4, h5, h6";

function headingsOf(slot) {
  return Array.from(slot.querySelectorAll(HEADINGS)).map((h) => ({
    text: h.textContent,
    level: h.getAttribute("aria-level") || h.tagName,
  }));
}

async function findings(slot, axeOptions, state) {
  const found = [];
  const outcome = await axe.run(slot, axeOptions);
  for (const v of outcome.violations) {
    for (const node of v.nodes) {
      found.push({
        state,
        rule: v.id,
        impact: node.impact || v.impact || "",
        help: v.help,
        target: node.target.join(" "),
        html: node.html.slice(0, 300),
        summary: (node.failureSummary || "").slice(0, 500),
      });
    }
  }
  return found;
}

window.checkCards = async function checkCards(cards, hostConfig, axeOptions) {
  const root = document.getElementById("cards");
  // null: the renderer's own default host config (new HostConfig({}) would lose its defaults,
  // the heading level among them)
  const config = hostConfig ? new AdaptiveCards.HostConfig(hostConfig) : null;
  const results = [];
  for (const { name, card, lang } of cards) {
    const slot = document.createElement("section");
    slot.setAttribute("lang", lang);
    slot.setAttribute("aria-label", name);
    root.appendChild(slot);
    const adaptiveCard = new AdaptiveCards.AdaptiveCard();
    if (config) {
      adaptiveCard.hostConfig = config;
    }
    const context = new AdaptiveCards.SerializationContext();
    adaptiveCard.parse(card, context);
    const parseErrors = [];
    for (let i = 0; i < context.eventCount; i++) {
      parseErrors.push(context.getEventAt(i).message);
    }
    slot.appendChild(adaptiveCard.render());

    const result = { name, parseErrors, headings: headingsOf(slot), states: [], violations: [] };
    const showCards = Array.from(slot.querySelectorAll("button[aria-expanded]"));
    if (showCards.length === 0) {
      result.violations.push(...(await findings(slot, axeOptions, "shown")));
    }
    for (const button of showCards) {
      button.click(); // opens this show-card and closes the one open before
      const title = button.getAttribute("aria-label") || button.textContent;
      const state = `show-card "${title}" open`;
      result.states.push({ state, headings: headingsOf(slot) });
      result.violations.push(...(await findings(slot, axeOptions, state)));
    }
    results.push(result);
    slot.remove();
  }
  return results;
};
