package matchmaker

import (
	"math"
	"slices"
	"time"
)

// Bounds on the search around one anchor.
const (
	// candidateSlack is added to twice the match size to get how many
	// nearby tickets an anchor considers: enough spares to replace members
	// that fail their own windows or do not pack, few enough to keep a
	// Pass linear in the queue size.
	candidateSlack = 8
	// scanFactor bounds how many untaken tickets an anchor inspects per
	// candidate it wants, so an anchor whose neighbours all have windows too
	// narrow for it cannot turn a Pass quadratic; the tickets it did not
	// reach are reconsidered next Pass with wider windows.
	scanFactor = 8
	// maxAttempts bounds how often one anchor refills its selection after
	// dropping a ticket: each retry costs a walk over the candidates, and an
	// anchor whose neighbourhood needs more repairs than this is tried again
	// next Pass, with wider windows.
	maxAttempts = 16
	// maxRoomRetries bounds the refills that give up a ticket to make room
	// for a party that did not fit: one or two cover real mixes (a duo
	// after three singles in 2v2), and a neighbourhood of parties that can
	// never pack (only trios in 5v5) must not cost every anchor maxAttempts
	// walks.
	maxRoomRetries = 3
	// ratingEpsilon absorbs float rounding in means and sums, so a ticket
	// exactly at the edge of its window is accepted.
	ratingEpsilon = 1e-9
)

// former finds, around one anchor, a set of tickets that forms a match.
type former struct {
	s          *passState
	need       int           // players in a full match
	min        int           // players in the smallest match
	shortAfter time.Duration // anchor wait that allows a match below need
	limit      int           // candidates gathered per anchor
	scanLimit  int           // tickets inspected per anchor

	left, right []int32 // gathered below / above the anchor, nearest first
	pick        []int32 // gathered candidates in rating order, anchor included
	excluded    []bool  // per pick position: dropped for failing the window check
	chosen      []int32 // positions in pick of the current selection
	members     []int32 // candidate indexes of the selection, rating order
	bigs        []int   // sizes of the selection's parties of 2 or more
	pack        packer
}

func (f *former) init(s *passState) {
	f.s = s
	m := s.mode
	f.need, f.min = m.MaxPlayers, m.MinPlayers
	f.shortAfter = time.Duration(m.MinPlayersAfter)
	f.limit = 2*f.need + candidateSlack
	f.scanLimit = scanFactor * f.limit
	f.pack.init(m.Teams, m.TeamSize)
}

// around returns the members, in rating order, of the match formed around
// anchor a, or false when the anchor cannot be matched in this Pass.
func (f *former) around(a int32) ([]int32, bool) {
	anchorPos := f.gather(a)
	allowShort := f.min < f.need && f.s.cands[a].wait >= f.shortAfter
	if !f.choose(anchorPos, allowShort) {
		return nil, false
	}
	slices.Sort(f.chosen)
	f.members = f.members[:0]
	for _, pos := range f.chosen {
		f.members = append(f.members, f.pick[pos])
	}
	return f.members, true
}

// gather collects the untaken tickets nearest in rating to anchor a that
// could share a match with it: two tickets both within their windows of a
// common mean are at most the sum of their windows apart. It walks the
// rating order outwards from the anchor, nearest first, and stops where no
// window reaches. It returns the anchor's position in f.pick.
func (f *former) gather(a int32) int {
	c := f.s.cands
	ra, wa := c[a].rating, c[a].window
	reach := wa + f.s.maxWindow + ratingEpsilon
	f.left, f.right = f.left[:0], f.right[:0]
	l, r := c[a].prev, c[a].next
	for scanned := 0; len(f.left)+len(f.right) < f.limit && scanned < f.scanLimit; scanned++ {
		dl, dr := math.Inf(1), math.Inf(1)
		if l >= 0 {
			dl = ra - c[l].rating
		}
		if r >= 0 {
			dr = c[r].rating - ra
		}
		if dl > reach && dr > reach {
			break
		}
		if dl < dr || (dl == dr && older(&c[l], &c[r]) < 0) {
			if dl <= wa+c[l].window+ratingEpsilon {
				f.left = append(f.left, l)
			}
			l = c[l].prev
		} else {
			if dr <= wa+c[r].window+ratingEpsilon {
				f.right = append(f.right, r)
			}
			r = c[r].next
		}
	}
	f.pick = f.pick[:0]
	for i := len(f.left) - 1; i >= 0; i-- {
		f.pick = append(f.pick, f.left[i])
	}
	anchorPos := len(f.pick)
	f.pick = append(f.pick, a)
	f.pick = append(f.pick, f.right...)
	return anchorPos
}

// choose selects into f.chosen a set of gathered tickets around the anchor
// that forms a valid match. It grows the set from the anchor by always
// taking the gathered ticket nearest to the set's current mean (the older on
// a tie) that still packs into teams; when a member then sits outside its
// own window of the final mean, it drops the worst offender and grows again;
// when the set cannot be filled because a party found no room, it drops the
// last ticket taken. Every retry excludes one more ticket, and there are at
// most maxAttempts.
func (f *former) choose(anchorPos int, allowShort bool) bool {
	c := f.s.cands
	n := len(f.pick)
	f.excluded = slices.Grow(f.excluded[:0], n)[:n]
	clear(f.excluded)
	a := &c[f.pick[anchorPos]]
	roomRetries := 0
	for range maxAttempts {
		f.chosen = append(f.chosen[:0], int32(anchorPos))
		f.bigs = f.bigs[:0]
		if a.size > 1 {
			f.bigs = append(f.bigs, a.size)
		}
		players, sum := a.size, a.sum
		l, r := anchorPos-1, anchorPos+1
		skipped := false // a party was passed over for not fitting
		// The selection only grows, so a party size that did not fit
		// never fits later in this fill, nor does any larger one.
		tooBig := f.need + 1
		for players < f.need {
			for l >= 0 && f.excluded[l] {
				l--
			}
			for r < n && f.excluded[r] {
				r++
			}
			if l < 0 && r >= n {
				break
			}
			pos := r
			if l >= 0 && r < n {
				mean := sum / float64(players)
				cl, cr := &c[f.pick[l]], &c[f.pick[r]]
				dl, dr := math.Abs(cl.rating-mean), math.Abs(cr.rating-mean)
				if dl < dr || (dl == dr && older(cl, cr) < 0) {
					pos = l
				}
			} else if l >= 0 {
				pos = l
			}
			if pos == l {
				l--
			} else {
				r++
			}
			x := &c[f.pick[pos]]
			if x.size >= tooBig || !f.fits(players, x.size) {
				tooBig = min(tooBig, x.size)
				skipped = true
				continue
			}
			f.chosen = append(f.chosen, int32(pos))
			players += x.size
			sum += x.sum
		}
		if players < f.need && (!allowShort || players < f.min) {
			if !skipped || len(f.chosen) == 1 || roomRetries == maxRoomRetries {
				return false
			}
			roomRetries++
			// Seats went to tickets that left a passed-over party no
			// room (three singles around a duo in 2v2): give up the
			// last one taken and fill again.
			f.excluded[f.chosen[len(f.chosen)-1]] = true
			continue
		}
		victim, ok := f.check(anchorPos, sum/float64(players))
		if ok {
			return true
		}
		if victim < 0 {
			return false
		}
		f.excluded[victim] = true
	}
	return false
}

// fits reports whether a party of size joins a selection of players players
// without overflowing the match or breaking the packing of parties into
// teams, and records it when it does.
func (f *former) fits(players, size int) bool {
	if players+size > f.need {
		return false
	}
	if size == 1 {
		return true
	}
	f.bigs = append(f.bigs, size)
	if !f.pack.feasible(f.bigs) {
		f.bigs = f.bigs[:len(f.bigs)-1]
		return false
	}
	return true
}

// check verifies every chosen ticket against its window around mean. On
// failure it names the pick position to drop: when the anchor itself is out,
// the member farthest from it on the mean's side (it pulls the mean away);
// otherwise the member furthest outside its window. victim < 0 with ok false
// means no drop can help.
func (f *former) check(anchorPos int, mean float64) (victim int, ok bool) {
	c := f.s.cands
	a := &c[f.pick[anchorPos]]
	if math.Abs(a.rating-mean) > a.window+ratingEpsilon {
		victim = -1
		for _, p := range f.chosen {
			pos := int(p)
			switch {
			case mean > a.rating && pos > anchorPos && pos > victim:
				victim = pos
			case mean < a.rating && pos < anchorPos && (victim < 0 || pos < victim):
				victim = pos
			}
		}
		return victim, false
	}
	victim, worst := -1, ratingEpsilon
	for _, p := range f.chosen {
		pos := int(p)
		x := &c[f.pick[pos]]
		if excess := math.Abs(x.rating-mean) - x.window; excess > worst {
			victim, worst = pos, excess
		}
	}
	return victim, victim < 0
}
