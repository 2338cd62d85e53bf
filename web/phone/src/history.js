// Call history, kept in this browser only (localStorage), newest first, at most 50 calls.

const KEY = "strowger.phone.history";
const LIMIT = 50;

export function loadHistory() {
  try {
    const list = JSON.parse(localStorage.getItem(KEY) ?? "[]");
    return Array.isArray(list) ? list : [];
  } catch {
    return [];
  }
}

// `entry`: {direction: "in"|"out", peer, uri, started, seconds, outcome}
export function addToHistory(entry) {
  const list = [entry, ...loadHistory()].slice(0, LIMIT);
  localStorage.setItem(KEY, JSON.stringify(list));
  return list;
}

export function clearHistory() {
  localStorage.removeItem(KEY);
  return [];
}
