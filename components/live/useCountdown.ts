"use client";
// Whole seconds left until a moment (e.g. the grace after a stream drop), ticking each second; null
// when there is no such moment or it has passed.
import { useEffect, useState } from "react";

export function useCountdown(until: number | null | undefined): number | null {
  // The clock as last read for this moment: a reading taken before the moment arrived (at mount,
  // minutes earlier) would show that much too many seconds, so none is shown until it is read anew.
  const [read, setRead] = useState<{ until: number; now: number }>();
  useEffect(() => {
    if (!until) return;
    const tick = () => setRead({ until, now: Date.now() });
    const first = setTimeout(tick, 0);
    const timer = setInterval(tick, 1000);
    return () => {
      clearTimeout(first);
      clearInterval(timer);
    };
  }, [until]);
  if (!until || read?.until !== until || until <= read.now) return null;
  return Math.ceil((until - read.now) / 1000);
}
