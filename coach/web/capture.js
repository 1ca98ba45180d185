// AudioWorklet: the microphone at the context's rate in, 16 kHz PCM16 frames of 100 ms out.
class Pcm16Downsampler extends AudioWorkletProcessor {
  constructor() {
    super();
    this.ratio = sampleRate / 16000;
    this.pos = 0; // fractional read position into `this.pending`
    this.pending = new Float32Array(0); // input not yet consumed, carried across blocks
    this.frame = new Int16Array(1600);
    this.filled = 0;
    this.level = 0;
  }

  process(inputs) {
    const channel = inputs[0] && inputs[0][0];
    if (!channel) return true;
    const data = new Float32Array(this.pending.length + channel.length);
    data.set(this.pending);
    data.set(channel, this.pending.length);
    let peak = 0;
    // Average the input samples that fall in each output sample: a box filter is enough
    // to keep speech clean when going down from 44.1/48 kHz to 16 kHz.
    while (this.pos + this.ratio <= data.length) {
      const start = Math.floor(this.pos);
      const end = Math.max(start + 1, Math.floor(this.pos + this.ratio));
      let sum = 0;
      for (let i = start; i < end; i++) sum += data[i];
      const value = sum / (end - start);
      peak = Math.max(peak, Math.abs(value));
      this.frame[this.filled++] = Math.max(-32768, Math.min(32767, Math.round(value * 32767)));
      if (this.filled === this.frame.length) {
        this.port.postMessage({ pcm: this.frame.buffer, level: this.level }, [this.frame.buffer]);
        this.frame = new Int16Array(1600);
        this.filled = 0;
      }
      this.pos += this.ratio;
    }
    const keep = Math.floor(this.pos);
    this.pending = data.slice(keep);
    this.pos -= keep;
    this.level = Math.max(peak, this.level * 0.9);
    return true;
  }
}

registerProcessor("pcm16-downsampler", Pcm16Downsampler);
