// A ring tone made with Web Audio (no sound file to ship): the two-tone European ring,
// 1 s on and 4 s off, and a short ringback-free "beep" for DTMF feedback.

export class Ringer {
  constructor() {
    this.context = null;
    this.timer = null;
  }

  audio() {
    this.context ??= new AudioContext();
    return this.context;
  }

  tone(frequencies, seconds, volume = 0.08) {
    const ctx = this.audio();
    const gain = ctx.createGain();
    gain.gain.value = volume;
    gain.connect(ctx.destination);
    for (const f of frequencies) {
      const osc = ctx.createOscillator();
      osc.frequency.value = f;
      osc.connect(gain);
      osc.start();
      osc.stop(ctx.currentTime + seconds);
    }
  }

  start() {
    this.stop();
    const ring = () => this.tone([425, 450], 1.0);
    try {
      ring();
      this.timer = setInterval(ring, 5000);
    } catch {
      // no audio output (or not allowed yet): the dialog still shows the call
    }
  }

  stop() {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  beep() {
    try { this.tone([950], 0.08, 0.05); } catch { /* no audio */ }
  }
}
