package bin

import (
	"debug/dwarf"
	"fmt"
	"strings"
)

// Offset returns the byte offset of a field path in a struct type of the
// binary's DWARF: Offset("runtime.g", "sched.pc") is the offset of
// g.sched.pc. The tour uses it to name the displacements it shows
// (0xb8(DX) is m.curg) without assuming the runtime's layout.
func (b *Binary) Offset(typ, path string) (uint64, error) {
	key := typ + "." + path
	if o, ok := b.offsets[key]; ok {
		return o, nil
	}
	t, err := b.structType(typ)
	if err != nil {
		return 0, err
	}
	var off uint64
	fields := strings.Split(path, ".")
	for i, name := range fields {
		var found *dwarf.StructField
		for _, f := range t.Field {
			if f.Name == name {
				found = f
				break
			}
		}
		if found == nil {
			return 0, fmt.Errorf("DWARF: %s has no field %s", t.StructName, name)
		}
		off += uint64(found.ByteOffset)
		if i == len(fields)-1 {
			break
		}
		ft := found.Type
		for {
			if td, ok := ft.(*dwarf.TypedefType); ok {
				ft = td.Type
				continue
			}
			break
		}
		st, ok := ft.(*dwarf.StructType)
		if !ok {
			return 0, fmt.Errorf("DWARF: %s.%s is not a struct", t.StructName, name)
		}
		t = st
	}
	if b.offsets == nil {
		b.offsets = map[string]uint64{}
	}
	b.offsets[key] = off
	return off, nil
}

// structType finds the struct type called name in DWARF.
func (b *Binary) structType(name string) (*dwarf.StructType, error) {
	if b.dwarfErr != nil {
		return nil, b.dwarfErr
	}
	if b.dwarf == nil {
		d, err := b.elf.DWARF()
		if err != nil {
			b.dwarfErr = fmt.Errorf("no DWARF: %v", err)
			return nil, b.dwarfErr
		}
		b.dwarf = d
		b.structs = map[string]dwarf.Offset{}
		r := d.Reader()
		for {
			e, err := r.Next()
			if err != nil || e == nil {
				break
			}
			if e.Tag == dwarf.TagStructType && e.Children {
				if n, ok := e.Val(dwarf.AttrName).(string); ok && strings.HasPrefix(n, "runtime.") {
					if _, dup := b.structs[n]; !dup {
						b.structs[n] = e.Offset
					}
				}
			}
			if e.Tag != dwarf.TagCompileUnit && e.Children {
				r.SkipChildren()
			}
		}
	}
	off, ok := b.structs[name]
	if !ok {
		return nil, fmt.Errorf("DWARF: no struct %s", name)
	}
	t, err := b.dwarf.Type(off)
	if err != nil {
		return nil, err
	}
	st, ok := t.(*dwarf.StructType)
	if !ok {
		return nil, fmt.Errorf("DWARF: %s is not a struct", name)
	}
	return st, nil
}
