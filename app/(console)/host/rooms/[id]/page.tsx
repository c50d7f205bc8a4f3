"use client";
import { use } from "react";
import { RoomPanel } from "@/components/console/RoomPanel";

export default function HostRoom({ params }: { params: Promise<{ id: string }> }) {
  const { id } = use(params);
  return <RoomPanel room={id} as="host" />;
}
