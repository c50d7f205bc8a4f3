"use client";
// Whole seconds left until a moment (e.g. the grace after a stream drop), ticking each second; null
// when there is no such moment or it has passed.
import { useEffect, useState } from "react";

export function useCountdown(until: number | null | undefined): number | null {
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    if (!until) return;
    const timer = setInterval(() => setNow(Date.now()), 1000);
    return () => clearInterval(timer);
  }, [until]);
  if (!until || until <= now) return null;
  return Math.ceil((until - now) / 1000);
}
