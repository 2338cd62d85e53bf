// The SIP message log pane: each message sent or received, its first line as a summary and
// the whole text on opening it. Bounded, so that a long session does not grow the page.

const LIMIT = 300;

export class SipLog {
  constructor(list, counter) {
    this.list = list;
    this.counter = counter;
    this.count = 0;
  }

  add(direction, text) {
    const item = document.createElement("li");
    item.className = `sip-${direction}`;
    item.dataset.testid = "sip-message";
    item.dataset.direction = direction;
    const details = document.createElement("details");
    const summary = document.createElement("summary");
    const time = new Date().toLocaleTimeString([], { hour12: false });
    const firstLine = text.split("\r\n", 1)[0];
    summary.textContent = `${time} ${direction === "out" ? "→" : "←"} ${firstLine}`;
    const body = document.createElement("pre");
    body.textContent = text;
    details.append(summary, body);
    item.append(details);
    this.list.prepend(item);
    while (this.list.children.length > LIMIT) this.list.lastElementChild.remove();
    this.count += 1;
    this.counter.textContent = String(this.count);
  }

  clear() {
    this.list.replaceChildren();
    this.count = 0;
    this.counter.textContent = "0";
  }
}
