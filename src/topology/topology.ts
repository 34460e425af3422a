// A service served by more than one server with roles (a PostgreSQL primary and its replicas):
// the kind runs the members and changes roles; the environment points the role addresses
// (rig's proxies) at them and records every change in its timeline.
import { RigError } from '../errors.ts'
import type { ManagedProcess } from '../providers/process/managed-process.ts'

/** A member's role. `down`: stopped or killed, waiting for a rejoin. */
export type Role = 'primary' | 'replica' | 'down'

/** One member of a topology. */
export interface TopologyNode {
  /** 0 is the member that started as primary, 1…N the replicas as started. */
  node: number
  role: Role
  host: string
  port: number
  /** Its own address, past every proxy. */
  url: string
  pid: number | null
}

/** How new connections to the role addresses are treated while roles change. */
export type SwitchMode = 'hold' | 'refuse'

/**
 * `switching`: new connections must wait (or be refused) from now on; `done`: the primary moved,
 * the addresses follow and new connections go through; `moved`: a replica came or went.
 */
export type SwitchPhase = 'switching' | 'done' | 'moved'

/** Options of a role change. */
export interface RoleChangeOptions {
  /** The replica to promote; by default the one that received the most. */
  to?: number
  /**
   * What the role addresses do with new connections while roles change: wait (`hold`) or be
   * reset (`refuse`). Open connections to a primary that goes away are cut by its going.
   * @default 'hold'
   */
  during?: SwitchMode
}

/** What a role change did, for the timeline and the caller. */
export interface RoleChange {
  /** `switchover`, `failover`, `promote`, `rejoin`, `kill`. */
  op: string
  /** One line, e.g. `failover: node 0 killed, node 1 promoted (38 ms)`. */
  text: string
  /** The primary afterwards (undefined when none). */
  primary: number | undefined
  ms: number
  /**
   * The source of a pattern of the error lines the members log because roles changed (a
   * replica losing its primary, sessions of a killed server): the test that asked expects them.
   */
  logs?: string
}

/** The operations and state a kind with members gives the environment. */
export interface Topology {
  nodes(): TopologyNode[]
  /** The current primary. */
  primary(): TopologyNode | undefined
  /** A replica for the replica role address (the primary when none is left). */
  readTarget(): TopologyNode | undefined
  /** The process of the current primary: the service's own process follows it. */
  primaryProcess(): ManagedProcess | undefined
  promote(node: number, options?: RoleChangeOptions): Promise<RoleChange>
  switchover(options?: RoleChangeOptions): Promise<RoleChange>
  failover(options?: RoleChangeOptions): Promise<RoleChange>
  rejoin(node?: number): Promise<RoleChange>
  /** Called around role changes, so the role addresses switch and follow (see {@link SwitchPhase}). */
  onSwitch(listener: (phase: SwitchPhase, during: SwitchMode) => void): void
  /** Stops every member except the one the service's own process is (the environment stops that). */
  stop(teardown: boolean): Promise<void>
}

/** An operation that does not apply to the topology as it is. */
export class TopologyError extends RigError {
  constructor(message: string) {
    super('RIG_TOPOLOGY_INVALID', message, { exitCode: 2 })
    this.name = 'TopologyError'
  }
}

/** The ops the control API and the CLI accept. */
export const TOPOLOGY_OPS = ['promote', 'switchover', 'failover', 'rejoin'] as const
