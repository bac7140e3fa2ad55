package arena

import "math"

// spawnCandidates is how many random points a spawn weighs: enough to find a
// spot well away from everyone in a crowded arena, cheap at respawn rates.
const spawnCandidates = 16

// spawn places id at full health on the free candidate point farthest from
// every other living player. Candidates come from the seeded PRNG in a fixed
// order, so spawns replay identically.
func (w *World) spawn(id PlayerID) {
	c := &w.cfg
	best, bestScore := w.spawnFall, -1.0
	for range spawnCandidates {
		cand := Vec2{
			c.PlayerRadius + w.rng.Float64()*(c.Width-2*c.PlayerRadius),
			c.PlayerRadius + w.rng.Float64()*(c.Height-2*c.PlayerRadius),
		}
		if w.move.Blocked(cand) {
			continue
		}
		score := math.Inf(1)
		for i := range w.players {
			o := &w.players[i]
			if PlayerID(i) != id && o.alive {
				d := cand.Sub(o.pos)
				score = math.Min(score, d.Dot(d))
			}
		}
		if score > bestScore {
			best, bestScore = cand, score
		}
	}
	p := &w.players[id]
	p.pos, p.vel = best, Vec2{}
	p.health, p.alive = c.MaxHealth, true
}

// fire spawns a projectile for id if the weapon is ready, and reports whether
// the shot was allowed. Two checks must pass: the input sequence must be a
// full cooldown past the last shot (what an honest client predicts), and a
// credit refilled by server ticks, capped at two shots, must cover it — so
// jitter that bunches honest shots is absorbed while the sustained rate can
// never beat the cooldown, whatever Seq numbers a cheater invents.
func (w *World) fire(id PlayerID, in Input) bool {
	p := &w.players[id]
	cd := w.t.cooldown
	if (p.hasFired && in.Seq-p.lastFireSeq < cd) || p.fireCredit < cd {
		return false
	}
	p.fireCredit -= cd
	p.lastFireSeq, p.hasFired = in.Seq, true

	dir := p.aim.Dir()
	origin := p.pos.Add(dir.Scale(w.cfg.PlayerRadius + w.cfg.ProjectileRadius))
	for _, o := range w.projWalls {
		// A muzzle poking through a wall the player hugs fizzles.
		if _, hit := SegmentHitsRect(p.pos, origin, o); hit {
			return true
		}
	}
	if len(w.projectiles) >= MaxProjectiles {
		return true // unreachable under Validate's budget; never grow past the cap
	}
	rewind := uint32(0)
	if in.Tick < w.tick {
		rewind = min(w.tick-in.Tick, w.t.rewind)
	}
	vel := dir.Scale(w.cfg.ProjectileSpeed)
	w.projectiles = append(w.projectiles, projectile{
		id:        w.nextProjID,
		owner:     id,
		origin:    origin,
		pos:       origin,
		vel:       vel,
		step:      vel.Scale(1 / float64(w.cfg.TickRate)),
		spawnTick: w.tick,
		rewind:    rewind,
	})
	w.nextProjID++
	return true
}

// stepProjectiles moves every projectile one tick, in spawn order, and
// resolves the first thing each one touches along its path. Targets are
// tested where the shooter saw them: positions rewound by the projectile's
// lag compensation, for its whole flight, so what the shooter saw hit is a
// hit. A target must be alive both then and now.
func (w *World) stepProjectiles(next uint32) {
	hitR := w.cfg.PlayerRadius + w.cfg.ProjectileRadius
	kept := w.projectiles[:0]
	for _, pr := range w.projectiles {
		p0 := pr.pos
		p1 := p0.Add(pr.step)
		tHit, victim, wall := 2.0, NoPlayer, false
		for _, o := range w.projWalls {
			if t, ok := SegmentHitsRect(p0, p1, o); ok && t < tHit {
				tHit, wall = t, true
			}
		}
		var frame *histFrame
		if pr.rewind > 0 {
			frame = w.hist.at(next - pr.rewind)
		}
		for i := range w.players {
			t := &w.players[i]
			if PlayerID(i) == pr.owner || !t.alive {
				continue
			}
			at := t.pos
			if frame != nil {
				if frame.alive&(1<<i) == 0 {
					continue
				}
				at = frame.pos[i]
			}
			if th, ok := segmentHitsCircle(p0, pr.step, at, hitR); ok && th < tHit {
				tHit, victim, wall = th, PlayerID(i), false
			}
		}
		switch {
		case victim != NoPlayer:
			w.damage(pr.owner, victim, next)
			continue
		case wall:
			continue
		}
		pr.pos = p1
		pr.age++
		if pr.age >= w.t.lifetime || p1.X < 0 || p1.Y < 0 || p1.X > w.cfg.Width || p1.Y > w.cfg.Height {
			continue
		}
		kept = append(kept, pr)
	}
	w.projectiles = kept
}

func (w *World) damage(shooter, victim PlayerID, tick uint32) {
	v := &w.players[victim]
	v.health -= w.cfg.ProjectileDamage
	if v.health > 0 {
		return
	}
	v.health, v.alive, v.vel = 0, false, Vec2{}
	v.deaths++
	v.respawnTick = tick + w.t.respawn
	s := &w.players[shooter]
	s.kills++
	s.score++
	w.emit(Event{Kind: EventKill, Tick: tick, Player: shooter, Other: victim})
}
