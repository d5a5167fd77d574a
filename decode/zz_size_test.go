package decode
import ("testing";"unsafe")
func TestZZSize(t *testing.T){ t.Logf("flow %d hs %d marks %d tshark %d zeek %d tomb %d", unsafe.Sizeof(flow{}), unsafe.Sizeof(handshakeState{}), unsafe.Sizeof(seqMarks{}), unsafe.Sizeof(tsharkFlows{}), unsafe.Sizeof(zeekConn{}), unsafe.Sizeof(tomb{})) }
